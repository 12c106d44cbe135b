//! Diesel table definitions, identical for both backends (see `migrations/`).

diesel::table! {
    tenants (id) {
        id -> Text,
        slug -> Text,
        name -> Text,
        created_at -> Timestamp,
        time_zone -> Text,
    }
}

diesel::table! {
    contacts (id) {
        id -> Text,
        tenant_id -> Text,
        channel -> Text,
        address -> Text,
        name -> Nullable<Text>,
        created_at -> Timestamp,
        number -> Nullable<BigInt>,
        clerk_name -> Nullable<Text>,
    }
}

diesel::table! {
    conversations (id) {
        id -> Text,
        tenant_id -> Text,
        contact_id -> Text,
        channel -> Text,
        token -> Text,
        subject -> Nullable<Text>,
        status -> Text,
        assignee -> Nullable<Text>,
        created_at -> Timestamp,
        last_message_at -> Timestamp,
    }
}

diesel::table! {
    blobs (tenant_id, sha256) {
        tenant_id -> Text,
        sha256 -> Text,
        size -> BigInt,
        data -> Binary,
    }
}

diesel::table! {
    messages (id) {
        id -> Text,
        tenant_id -> Text,
        conversation_id -> Text,
        contact_id -> Text,
        direction -> Text,
        channel -> Text,
        idempotency_key -> Text,
        provider_message_id -> Nullable<Text>,
        rfc_message_id -> Nullable<Text>,
        from_address -> Text,
        from_name -> Nullable<Text>,
        to_json -> Text,
        subject -> Nullable<Text>,
        body_text -> Text,
        body_html -> Nullable<Text>,
        sent_at -> Nullable<Timestamp>,
        received_at -> Timestamp,
        raw_sha256 -> Text,
        raw_size -> BigInt,
        raw_content_type -> Text,
        flags_json -> Text,
        parse_warnings_json -> Text,
        author -> Nullable<Text>,
    }
}

diesel::table! {
    attachments (id) {
        id -> Text,
        tenant_id -> Text,
        message_id -> Text,
        ordinal -> Integer,
        filename -> Nullable<Text>,
        content_type -> Text,
        content_id -> Nullable<Text>,
        sha256 -> Text,
        size -> BigInt,
    }
}

diesel::table! {
    message_events (id) {
        id -> Text,
        tenant_id -> Text,
        message_id -> Text,
        status -> Text,
        detail -> Nullable<Text>,
        original_sha256 -> Nullable<Text>,
        at -> Timestamp,
    }
}

diesel::table! {
    outbox (seq) {
        seq -> BigInt,
        tenant_id -> Text,
        kind -> Text,
        message_id -> Nullable<Text>,
        conversation_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    consumer_cursors (name) {
        name -> Text,
        seq -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        tenant_id -> Text,
        seq -> BigInt,
        at -> Timestamp,
        actor -> Text,
        action -> Text,
        subject_kind -> Text,
        subject_id -> Text,
        detail -> Text,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    audit_checkpoints (tenant_id) {
        tenant_id -> Text,
        seq -> BigInt,
        hash -> Text,
        mac -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Text,
        tenant_id -> Text,
        name -> Text,
        role -> Text,
        token_sha256 -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    channel_settings (tenant_id, channel, key) {
        tenant_id -> Text,
        channel -> Text,
        key -> Text,
        value_json -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        tenant_id -> Text,
        username -> Text,
        display_name -> Text,
        role -> Text,
        password_hash -> Text,
        created_at -> Timestamp,
        disabled_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sessions (id_sha256) {
        id_sha256 -> Text,
        tenant_id -> Text,
        user_id -> Text,
        csrf_token -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    login_failures (tenant_id, username) {
        tenant_id -> Text,
        username -> Text,
        failures -> Integer,
        first_failure_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    conversation_labels (tenant_id, conversation_id, label) {
        tenant_id -> Text,
        conversation_id -> Text,
        label -> Text,
        added_by -> Text,
        added_at -> Timestamp,
    }
}

diesel::table! {
    conversation_reads (tenant_id, user_id, conversation_id) {
        tenant_id -> Text,
        user_id -> Text,
        conversation_id -> Text,
        read_at -> Timestamp,
    }
}

diesel::table! {
    woo_cases (id) {
        id -> Text,
        tenant_id -> Text,
        number -> Text,
        year -> Integer,
        ordinal -> Integer,
        subject -> Text,
        requester_contact_id -> Nullable<Text>,
        requester_name -> Nullable<Text>,
        requester_address -> Nullable<Text>,
        channel -> Nullable<Text>,
        received_at -> Timestamp,
        received_on -> Text,
        message_id -> Nullable<Text>,
        conversation_id -> Nullable<Text>,
        status -> Text,
        outcome -> Nullable<Text>,
        extension_days -> Nullable<Integer>,
        extension_decided_on -> Nullable<Text>,
        extension_reason -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    woo_case_events (id) {
        id -> Text,
        tenant_id -> Text,
        case_id -> Text,
        at -> Timestamp,
        actor -> Text,
        kind -> Text,
        detail_json -> Text,
    }
}

diesel::table! {
    woo_suspensions (id) {
        id -> Text,
        tenant_id -> Text,
        case_id -> Text,
        kind -> Text,
        asked_on -> Text,
        ended_on -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    woo_documents (case_id, number) {
        tenant_id -> Text,
        case_id -> Text,
        number -> Integer,
        conversation_id -> Text,
        document_date -> Text,
        older_than_five_years -> Bool,
        duplicate_of -> Nullable<Integer>,
        judgement -> Nullable<Text>,
        grounds_json -> Text,
        motivation -> Text,
        link -> Nullable<Text>,
        art_5_3_reasons -> Nullable<Text>,
        judged_by -> Nullable<Text>,
        judged_at -> Nullable<Timestamp>,
        added_by -> Text,
        added_at -> Timestamp,
    }
}

diesel::table! {
    woo_search_log (id) {
        id -> Text,
        tenant_id -> Text,
        case_id -> Text,
        source -> Text,
        system -> Text,
        query -> Text,
        filters_json -> Text,
        hit_count -> Nullable<BigInt>,
        conversation_count -> Nullable<BigInt>,
        result -> Nullable<Text>,
        searched_on -> Text,
        actor -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    legal_holds (id) {
        id -> Text,
        tenant_id -> Text,
        subject_kind -> Text,
        subject_id -> Text,
        case_id -> Nullable<Text>,
        reason -> Text,
        held_by -> Text,
        held_at -> Timestamp,
        released_by -> Nullable<Text>,
        released_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(sessions -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    tenants,
    contacts,
    conversations,
    blobs,
    messages,
    attachments,
    message_events,
    outbox,
    consumer_cursors,
    audit_events,
    audit_checkpoints,
    api_tokens,
    channel_settings,
    users,
    sessions,
    login_failures,
    conversation_labels,
    conversation_reads,
    woo_cases,
    woo_case_events,
    woo_suspensions,
    woo_documents,
    woo_search_log,
    legal_holds,
);
