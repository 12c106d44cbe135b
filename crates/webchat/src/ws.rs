//! The WebSocket endpoint `/webchat/v1/ws?tenant=SLUG`.

use crate::chat::{SessionId, WebchatState};
use crate::protocol::{ClientFrame, ProblemCode, ServerFrame, close};
use crate::ratelimit::PrefixKey;
use crate::request::{TenantQuery, client_addr};
use crate::router::Registration;
use actix_web::{HttpRequest, HttpResponse, web};
use actix_ws::{AggregatedMessage, CloseCode, CloseReason, ProtocolError, Session};
use loket_core::{ConversationId, LiveEvent, MessageId, Tenant};
use std::collections::HashSet;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

pub(crate) async fn socket(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<WebchatState>,
    q: web::Query<TenantQuery>,
) -> actix_web::Result<HttpResponse> {
    let (resp, session, stream) = actix_ws::handle(&req, body)?;
    let state = state.get_ref().clone();
    let prefix = state.prefix_key(client_addr(&req, state.config().trust_forwarded_for));
    let slot = state.enter_connection(prefix);
    let tenant = state.tenant(q.tenant.as_deref()).await;
    let max = state.config().max_frame_bytes;
    let stream = stream
        .max_frame_size(max)
        .aggregate_continuations()
        .max_continuation_size(max);
    actix_web::rt::spawn(async move {
        let Some(_slot) = slot else {
            close_with(session, close::TOO_MANY_CONNECTIONS, "too many connections").await;
            return;
        };
        let tenant = match tenant {
            Ok(t) => t,
            Err(r) if r.code == ProblemCode::UnknownTenant => {
                close_with(session, close::UNKNOWN_TENANT, "unknown tenant").await;
                return;
            }
            Err(_) => {
                close_with(session, close::INTERNAL_ERROR, "unavailable").await;
                return;
            }
        };
        Conn::new(state, session, tenant, prefix).run(stream).await;
    });
    Ok(resp)
}

async fn close_with(session: Session, code: u16, description: &str) {
    let _ = session
        .close(Some(CloseReason {
            code: CloseCode::from(code),
            description: Some(description.to_owned()),
        }))
        .await;
}

struct Bound {
    session: SessionId,
    registration: Option<Registration>,
}

struct Conn {
    state: WebchatState,
    ws: Session,
    tenant: Tenant,
    prefix: PrefixKey,
    tx: mpsc::UnboundedSender<LiveEvent>,
    rx: mpsc::UnboundedReceiver<LiveEvent>,
    bound: Option<Bound>,
    /// Message ids this connection already showed (welcome, pushes, own acks).
    shown: HashSet<MessageId>,
    refusals: u32,
}

/// Why the loop ended: send this close frame (or none when the peer is gone).
type Exit = Option<(u16, &'static str)>;

impl Conn {
    fn new(state: WebchatState, ws: Session, tenant: Tenant, prefix: PrefixKey) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Self {
            state,
            ws,
            tenant,
            prefix,
            tx,
            rx,
            bound: None,
            shown: HashSet::new(),
            refusals: 0,
        }
    }

    async fn run(mut self, mut stream: actix_ws::AggregatedMessageStream) {
        let cfg = self.state.config().clone();
        let tcfg = self.state.tenant_config(&self.tenant).await;
        let idle = Duration::from_secs(cfg.idle_timeout_secs.max(5));
        let resync = Duration::from_secs(cfg.resync_secs);
        let mut presence = self.state.presence().watch();
        let mut online = self.state.online(&self.tenant, &tcfg);
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        let mut last_seen = Instant::now();
        let mut last_sync = Instant::now();

        let exit: Exit = loop {
            tokio::select! {
                msg = stream.recv() => {
                    last_seen = Instant::now();
                    let step = match msg {
                        None => break None,
                        Some(Ok(AggregatedMessage::Text(text))) => self.on_text(&text, online).await,
                        Some(Ok(AggregatedMessage::Binary(_))) => {
                            Err(Some((close::UNSUPPORTED_DATA, "binary frames are not supported")))
                        }
                        Some(Ok(AggregatedMessage::Ping(b))) => {
                            self.ws.pong(&b).await.map_err(|_| None)
                        }
                        Some(Ok(AggregatedMessage::Pong(_))) => Ok(()),
                        Some(Ok(AggregatedMessage::Close(_))) => Err(Some((close::NORMAL, "bye"))),
                        Some(Err(ProtocolError::Overflow)) => {
                            Err(Some((close::TOO_BIG, "frame too large")))
                        }
                        Some(Err(ProtocolError::Io(e)))
                            if e.kind() == std::io::ErrorKind::InvalidData =>
                        {
                            Err(Some((close::INVALID_PAYLOAD, "text frame is not valid UTF-8")))
                        }
                        Some(Err(_)) => Err(Some((1002, "protocol error"))),
                    };
                    if let Err(exit) = step {
                        break exit;
                    }
                }
                Some(ev) = self.rx.recv() => {
                    if let Err(exit) = self.on_event(ev).await {
                        break exit;
                    }
                }
                changed = presence.changed() => {
                    if changed.is_err() {
                        continue;
                    }
                    let now = self.state.online(&self.tenant, &tcfg);
                    if now != online {
                        online = now;
                        if self.send(&ServerFrame::Presence { online }).await.is_err() {
                            break None;
                        }
                    }
                }
                _ = tick.tick() => {
                    if last_seen.elapsed() > idle {
                        break Some((close::IDLE, "idle"));
                    }
                    let now = self.state.online(&self.tenant, &tcfg);
                    if now != online {
                        online = now;
                        if self.send(&ServerFrame::Presence { online }).await.is_err() {
                            break None;
                        }
                    }
                    if !resync.is_zero() && last_sync.elapsed() >= resync {
                        last_sync = Instant::now();
                        if let Err(exit) = self.resync().await {
                            break exit;
                        }
                    }
                }
            }
        };
        if let Some((code, why)) = exit {
            close_with(self.ws, code, why).await;
        }
    }

    async fn send(&mut self, frame: &ServerFrame) -> Result<(), Exit> {
        self.ws.text(frame.to_json()).await.map_err(|_| None)
    }

    async fn on_text(&mut self, text: &str, online: bool) -> Result<(), Exit> {
        let frame: ClientFrame = match serde_json::from_str(text) {
            Ok(f) => f,
            Err(_) => {
                let r = crate::protocol::Refusal::new(
                    ProblemCode::BadFrame,
                    "not a known JSON frame of the web chat protocol",
                );
                return self.refuse(r).await;
            }
        };
        match frame {
            ClientFrame::Ping => self.send(&ServerFrame::Pong).await,
            ClientFrame::Hello { session, .. } => {
                if self.bound.is_some() {
                    return Err(Some((close::BAD_HELLO, "second hello")));
                }
                let Ok(session) = SessionId::from_secret(&session) else {
                    return Err(Some((close::BAD_HELLO, "bad session secret")));
                };
                // Register before reading the history, so nothing published in between
                // is missed (duplicates are filtered through `shown`).
                let known = self
                    .state
                    .store()
                    .conversation_for_contact(
                        self.tenant.id,
                        loket_core::Channel::Webchat,
                        session.address(),
                    )
                    .await
                    .map_err(|_| Some((close::INTERNAL_ERROR, "unavailable")))?;
                let registration = known.map(|c| self.register(c.id));
                let (welcome, _conv, ids) = self
                    .state
                    .welcome(&self.tenant, &session, online)
                    .await
                    .map_err(|_| Some((close::INTERNAL_ERROR, "unavailable")))?;
                self.shown.extend(ids);
                self.bound = Some(Bound {
                    session,
                    registration,
                });
                self.send(&welcome).await
            }
            ClientFrame::Message(event) => {
                let Some(bound) = &self.bound else {
                    let r = crate::protocol::Refusal::new(
                        ProblemCode::NoSession,
                        "send hello with the session secret first",
                    )
                    .with_id(Some(&event.id));
                    return self.refuse(r).await;
                };
                let session = bound.session.clone();
                let result = self
                    .state
                    .accept_message(&self.tenant, &session, self.prefix, text.as_bytes(), &event)
                    .await;
                match result {
                    Ok(frame) => {
                        self.refusals = 0;
                        if let ServerFrame::Stored {
                            message_id,
                            conversation_id,
                            ..
                        } = &frame
                        {
                            if let Ok(mid) = message_id.parse() {
                                self.shown.insert(mid);
                            }
                            if let Ok(conv) = conversation_id.parse::<ConversationId>() {
                                self.follow(conv);
                            }
                        }
                        self.send(&frame).await
                    }
                    Err(r) => self.refuse(r).await,
                }
            }
            ClientFrame::Received { ids } => {
                let Some(bound) = &self.bound else {
                    let r = crate::protocol::Refusal::new(
                        ProblemCode::NoSession,
                        "send hello with the session secret first",
                    );
                    return self.refuse(r).await;
                };
                let session = bound.session.clone();
                match self.state.received(&self.tenant, &session, &ids).await {
                    Ok(_) => Ok(()),
                    Err(r) => self.refuse(r).await,
                }
            }
        }
    }

    fn register(&self, conv: ConversationId) -> Registration {
        self.state
            .router()
            .register(self.tenant.id, conv, self.tx.clone())
    }

    /// Follows the conversation the last message went to (a new one after a close).
    fn follow(&mut self, conv: ConversationId) {
        let current = self
            .bound
            .as_ref()
            .and_then(|b| b.registration.as_ref())
            .map(Registration::conversation);
        if current != Some(conv) {
            let reg = self.register(conv);
            if let Some(b) = &mut self.bound {
                b.registration = Some(reg);
            }
        }
    }

    async fn refuse(&mut self, r: crate::protocol::Refusal) -> Result<(), Exit> {
        self.refusals += 1;
        if self.refusals > self.state.config().rate.max_refusals_in_a_row {
            return Err(Some((close::POLICY_VIOLATION, "too many refused frames")));
        }
        self.send(&r.frame()).await
    }

    fn conversation(&self) -> Option<ConversationId> {
        self.bound
            .as_ref()
            .and_then(|b| b.registration.as_ref())
            .map(Registration::conversation)
    }

    async fn on_event(&mut self, ev: LiveEvent) -> Result<(), Exit> {
        let LiveEvent::Message {
            conversation_id,
            message_id,
            ..
        } = ev
        else {
            return Ok(());
        };
        if Some(conversation_id) != self.conversation() || self.shown.contains(&message_id) {
            return Ok(());
        }
        match self
            .state
            .shown_message(&self.tenant, conversation_id, message_id)
            .await
        {
            Ok(Some(message)) => {
                self.shown.insert(message_id);
                self.send(&ServerFrame::Message { message }).await
            }
            Ok(None) => Ok(()),
            // The next resync (or reconnect) shows it.
            Err(_) => Ok(()),
        }
    }

    /// Re-reads the conversation and shows what a lagging subscription may have missed.
    async fn resync(&mut self) -> Result<(), Exit> {
        let Some(bound) = &self.bound else {
            return Ok(());
        };
        if bound.registration.is_none() {
            return Ok(());
        }
        let session = bound.session.clone();
        let Ok((conv, messages)) = self.state.history(&self.tenant, &session).await else {
            return Ok(());
        };
        if let Some(conv) = conv {
            self.follow(conv);
        }
        for (id, message) in messages {
            if self.shown.insert(id) {
                self.send(&ServerFrame::Message { message }).await?;
            }
        }
        Ok(())
    }
}
