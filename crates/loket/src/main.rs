//! `loket`: the binary. `anyhow` lives here only; every library returns its own errors.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use loket_core::Role;
use loket_server::Settings;
use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

mod classify;

#[derive(Parser)]
#[command(
    name = "loket",
    version,
    about = "Message gateway for Dutch municipalities: web chat, email and SMS into one archived, searchable inbox."
)]
struct Cli {
    /// Configuration file (TOML) layered over the built-in defaults; LOKET_* environment
    /// variables override both.
    #[arg(long, global = true, env = "LOKET_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Start the server (the default command).
    Serve,
    /// Apply pending database migrations (or revert them all with --down-all).
    Migrate {
        #[arg(long)]
        down_all: bool,
    },
    /// Import messages from a JSONL file (docs/jsonl-format.md). A file with any bad
    /// line is rejected whole; rerunning an interrupted import completes it.
    Import {
        file: PathBuf,
        /// Create tenants named in the file that do not exist yet.
        #[arg(long)]
        create_tenants: bool,
        /// Messages per transaction (a batch also ends at `--batch-mib` of lines). Larger
        /// batches import faster and use more memory (about 2 KB per short message); a
        /// server writing to the same database waits for each batch, so lower this when
        /// importing next to live traffic.
        #[arg(long, default_value_t = loket_store::jsonl::BULK_BATCH_SIZE,
              value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        batch_size: u32,
        /// A batch also ends once its lines add up to this many MiB: two batches are in
        /// memory at a time (one written, the next decoded), so this bounds the import's
        /// memory when messages are large.
        #[arg(long, default_value_t = (loket_store::jsonl::MAX_BATCH_BYTES >> 20) as u32,
              value_parser = clap::value_parser!(u32).range(1..=4096))]
        batch_mib: u32,
    },
    /// Export messages as JSONL (all tenants, or one).
    ExportJsonl {
        #[arg(long)]
        tenant: Option<String>,
        /// Output file (default: standard output).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Check every original's SHA-256 and every audit chain; exit code 1 on any fault.
    Verify {
        /// Also prove the search index holds exactly the archived messages.
        #[arg(long)]
        index: bool,
    },
    /// Rebuild the search index from the archive.
    Reindex {
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Manage tenants (municipalities).
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Manage people who log in to the inbox.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Message classification: train, evaluate, Algoritmeregister card.
    Classify {
        #[command(subcommand)]
        command: classify::ClassifyCommand,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a person: `loket user add --tenant demo --username jan --role clerk`. The
    /// password comes from --password-file, else LOKET_USER_PASSWORD, else a prompt.
    Add {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        username: String,
        /// admin, clerk, foi_officer or auditor.
        #[arg(long)]
        role: String,
        /// Display name (default: the username).
        #[arg(long, default_value = "")]
        name: String,
        /// A file whose first line is the password.
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
}

/// The new user's password: file, environment, or a prompt without echo.
fn user_password(file: Option<PathBuf>) -> Result<String> {
    if let Some(f) = file {
        let s =
            std::fs::read_to_string(&f).with_context(|| format!("cannot read {}", f.display()))?;
        return Ok(s.lines().next().unwrap_or("").to_owned());
    }
    if let Ok(p) = std::env::var("LOKET_USER_PASSWORD") {
        return Ok(p);
    }
    use std::io::IsTerminal;
    let tty = std::io::stdin().is_terminal();
    if tty {
        eprint!("Password: ");
        let _ = std::process::Command::new("stty").arg("-echo").status();
    }
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    if tty {
        let _ = std::process::Command::new("stty").arg("echo").status();
        eprintln!();
    }
    read.context("cannot read the password")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Add a tenant: `loket tenant add den-haag --name "Gemeente Den Haag"`.
    Add {
        slug: String,
        #[arg(long)]
        name: String,
    },
    /// List tenants.
    List,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token; the token is printed once.
    Create {
        #[arg(long)]
        tenant: String,
        /// admin, clerk, foi_officer or auditor.
        #[arg(long, default_value = "admin")]
        role: String,
        #[arg(long, default_value = "api")]
        name: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("loket: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("loket: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode> {
    let settings = Settings::load(cli.config.as_deref()).context("reading the configuration")?;
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Serve = command {
        let _guard = loket_server::telemetry::init(&settings.telemetry.log_format)?;
        loket_server::run(settings).await?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Command::Classify { command } = command {
        classify::run(command)?;
        return Ok(ExitCode::SUCCESS);
    }
    let store = loket_server::open_store(&settings).await?;
    match command {
        Command::Serve | Command::Classify { .. } => unreachable!("handled above"),
        Command::Migrate { down_all } => {
            let url = settings.database_url();
            let done = if down_all {
                loket_store::Store::revert_all(&url).await?
            } else {
                loket_store::Store::migrate(&url).await?
            };
            println!(
                "{} migration(s) {}; the database is {}",
                done.len(),
                if down_all { "reverted" } else { "applied" },
                if down_all { "empty" } else { "up to date" }
            );
        }
        Command::Import {
            file,
            create_tenants,
            batch_size,
            batch_mib,
        } => {
            if !file.exists() {
                bail!("{} does not exist", file.display());
            }
            let f = file.clone();
            let source = move || -> loket_store::Result<Box<dyn Iterator<Item = std::io::Result<String>> + Send>> {
                let r = std::fs::File::open(&f)
                    .map_err(|e| loket_store::StoreError::Invalid(format!("cannot open {}: {e}", f.display())))?;
                Ok(Box::new(std::io::BufReader::with_capacity(1 << 20, r).lines()))
            };
            let opts = loket_store::jsonl::ImportOptions {
                create_tenants,
                batch_size: batch_size as usize,
                batch_bytes: (batch_mib as usize) << 20,
                checkpoint_every_pages: Some(loket_store::jsonl::BULK_CHECKPOINT_PAGES),
                ..Default::default()
            };
            match store.import_jsonl(source, opts).await? {
                Ok(r) => {
                    store.truncate_wal().await;
                    println!(
                        "imported {} message(s) from {} line(s); {} were already present{}",
                        r.imported,
                        r.lines,
                        r.already_present,
                        if r.tenants_created.is_empty() {
                            String::new()
                        } else {
                            format!("; created tenants {}", r.tenants_created.join(", "))
                        }
                    )
                }
                Err(errors) => {
                    for e in &errors {
                        eprintln!("{}:{}: {}", file.display(), e.line, e.message);
                    }
                    eprintln!(
                        "loket: {} bad line(s): nothing was imported. Fix them and run the import again.",
                        errors.len()
                    );
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
        Command::ExportJsonl { tenant, output } => {
            let tenant_id = match tenant {
                Some(slug) => Some(
                    store
                        .tenant_by_slug(&slug)
                        .await?
                        .with_context(|| {
                            format!("tenant `{slug}` not found (see `loket tenant list`)")
                        })?
                        .id,
                ),
                None => None,
            };
            let out: Box<dyn std::io::Write + Send> = match &output {
                Some(p) => Box::new(
                    std::fs::File::create(p)
                        .with_context(|| format!("cannot create {}", p.display()))?,
                ),
                None => Box::new(std::io::stdout()),
            };
            let n = store.export_jsonl(tenant_id, out).await?;
            eprintln!("exported {n} message(s)");
        }
        Command::Verify { index } => {
            let report = store.verify().await?;
            println!(
                "checked {} tenant(s), {} original(s)/attachment(s), {} message(s), {} audit event(s)",
                report.tenants,
                report.blobs_checked,
                report.messages_checked,
                report.audit_events_checked
            );
            let (journal, sync) = store.durability_settings().await?;
            println!("durability: {journal} / {sync}");
            let mut ok = report.ok();
            for f in &report.faults {
                println!("FAULT: {f}");
            }
            if index {
                ok &= verify_index(&store, &settings).await?;
            }
            if ok {
                println!("verify: OK");
                return Ok(ExitCode::SUCCESS);
            }
            println!("verify: FAILED ({} fault(s))", report.faults.len());
            return Ok(ExitCode::FAILURE);
        }
        Command::Reindex { tenant } => {
            reindex(&store, &settings, tenant).await?;
        }
        Command::Tenant { command } => match command {
            TenantCommand::Add { slug, name } => {
                let t = store.create_tenant(&slug, &name).await?;
                println!("tenant {} ({}) created with id {}", t.slug, t.name, t.id);
            }
            TenantCommand::List => {
                for t in store.tenants().await? {
                    println!("{}\t{}\t{}", t.slug, t.id, t.name);
                }
            }
        },
        Command::Token { command } => match command {
            TokenCommand::Create { tenant, role, name } => {
                let role: Role = role.parse().map_err(|_| {
                    anyhow::anyhow!(
                        "role `{role}` is not one of admin, clerk, foi_officer, auditor"
                    )
                })?;
                let t = store
                    .tenant_by_slug(&tenant)
                    .await?
                    .with_context(|| format!("tenant `{tenant}` not found (create it with `loket tenant add {tenant} --name …`)"))?;
                let token = store.create_token(t.id, &name, role).await?;
                println!("{}", token.secret);
                eprintln!("token `{name}` ({role}) for tenant {tenant}: shown once, store it now");
            }
        },
        Command::User { command } => match command {
            UserCommand::Add {
                tenant,
                username,
                role,
                name,
                password_file,
            } => {
                let role: Role = role.parse().map_err(|_| {
                    anyhow::anyhow!(
                        "role `{role}` is not one of admin, clerk, foi_officer, auditor"
                    )
                })?;
                let t = store
                    .tenant_by_slug(&tenant)
                    .await?
                    .with_context(|| format!("tenant `{tenant}` not found"))?;
                let password = user_password(password_file)?;
                let u = store
                    .create_user(t.id, &username, &name, role, &password)
                    .await?;
                println!(
                    "user {} ({}) created in tenant {tenant} with id {}",
                    u.username, u.role, u.id
                );
            }
        },
    }
    Ok(ExitCode::SUCCESS)
}

async fn verify_index(store: &loket_store::Store, settings: &Settings) -> Result<bool> {
    let search = loket_server::open_search(store, settings).await?;
    let mut ok = true;
    for t in store.tenants().await? {
        let diff = search.verify_index(t.id).await?;
        println!(
            "index {}: {} archived, {} indexed, {} missing, {} extra",
            t.slug,
            diff.archived,
            diff.indexed,
            diff.missing_in_index.len(),
            diff.extra_in_index.len()
        );
        for id in diff.missing_in_index.iter().take(100) {
            println!(
                "FAULT: tenant {}: message {id} is archived but not in the index",
                t.slug
            );
        }
        for id in diff.extra_in_index.iter().take(100) {
            println!(
                "FAULT: tenant {}: the index holds {id}, which is not archived",
                t.slug
            );
        }
        ok &= diff.is_clean();
    }
    Ok(ok)
}

async fn reindex(
    store: &loket_store::Store,
    settings: &Settings,
    tenant: Option<String>,
) -> Result<()> {
    let search = loket_server::open_search(store, settings).await?;
    let tenants = match tenant {
        Some(slug) => vec![
            store
                .tenant_by_slug(&slug)
                .await?
                .with_context(|| format!("tenant `{slug}` not found"))?,
        ],
        None => store.tenants().await?,
    };
    for t in tenants {
        search.reindex(t.id).await?;
        println!("reindexed {}", t.slug);
    }
    Ok(())
}
