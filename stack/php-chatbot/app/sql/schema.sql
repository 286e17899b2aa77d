-- The chatbot's tables: the job queue the worker drains, its dead-letter queue, and the chat
-- messages users see. Run once, as the owning role.
CREATE TABLE jobs (
    id           bigserial PRIMARY KEY,
    type         text        NOT NULL,
    status       text        NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
    payload      jsonb       NOT NULL DEFAULT '{}',
    result       jsonb,
    attempts     integer     NOT NULL DEFAULT 0,
    max_attempts integer     NOT NULL DEFAULT 3,
    available_at timestamptz NOT NULL DEFAULT now(),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    error_text   text
);
CREATE INDEX jobs_ready ON jobs (status, available_at);

CREATE TABLE dead_letter_queue (
    id          bigserial PRIMARY KEY,
    job_id      bigint      NOT NULL REFERENCES jobs (id),
    type        text        NOT NULL,
    payload     jsonb       NOT NULL,
    error_text  text,
    attempts    integer     NOT NULL,
    failed_at   timestamptz NOT NULL DEFAULT now(),
    requeued_at timestamptz
);

CREATE TABLE messages (
    id         bigserial PRIMARY KEY,
    session_id text        NOT NULL,
    role       text        NOT NULL CHECK (role IN ('user', 'assistant')),
    content    text        NOT NULL,
    job_id     bigint REFERENCES jobs (id),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_session ON messages (session_id, id);
