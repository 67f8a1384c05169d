-- The reporting tables on SQLite: the same tables and columns as PostgreSQL's `reporting` schema
-- (migrations/postgres/0100_reporting_tables.sql, where every column is documented), in the store's
-- own file with a `reporting_` prefix: `reporting.projects` there is `reporting_projects` here.
-- Why a prefix and not an ATTACHed `reporting.db` (which would keep the `reporting.` spelling):
-- a projection commits its rows and its checkpoint (in `checkpoints`, this file) in one
-- transaction, and SQLite in WAL mode does not make a transaction atomic across attached files;
-- and a BI tool that opens this one file finds every reporting table without attaching anything.
--
-- Types: uuids, dates, months and timestamps are text (timestamps RFC 3339 in UTC, as the
-- projections write them); booleans are 0/1 (declared BOOLEAN); jsonb and text[] columns are JSON
-- text (declared JSON); money, counts and versions are INTEGER (yuan are whole: domain `Yuan`);
-- decimals (areas, target values, percentages) are TEXT with exactly the digits PostgreSQL shows
-- (areas with 4 decimals), so that nothing ever passes through a binary float. DATE, TIMESTAMP,
-- BOOLEAN and JSON have NUMERIC affinity, which leaves such text as text.
-- Generated columns compute what PostgreSQL computes, in integer arithmetic (see each column).
-- Only projections write here (crates/projections/src/sqlite); every row can be rebuilt from the
-- event log.

CREATE TABLE reporting_units (
    unit_id     TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    unit_kind   TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);

CREATE TABLE reporting_projects (
    project_id                  TEXT PRIMARY KEY,
    name                        TEXT NOT NULL,
    project_kind                TEXT NOT NULL,
    investor_name               TEXT NOT NULL,
    investor_type               TEXT NOT NULL,
    industry_chain              TEXT NOT NULL,
    industrial                  BOOLEAN NOT NULL,
    unit_id                     TEXT NOT NULL,
    lead_official               TEXT NOT NULL,
    stage                       TEXT NOT NULL,
    status                      TEXT NOT NULL,
    status_reason               TEXT,
    intended_investment_yuan    INTEGER NOT NULL,
    contract_investment_yuan    INTEGER,
    fixed_asset_investment_yuan INTEGER,
    filed_investment_yuan       INTEGER,
    planned_investment_yuan     INTEGER,
    planned_year                INTEGER,
    land_demand_mu              TEXT,
    land_delivered_mu           TEXT NOT NULL DEFAULT '0.0000',
    project_code                TEXT UNIQUE,
    approval_route              TEXT,
    credit_code                 TEXT,
    company_name                TEXT,
    registered_capital_yuan     INTEGER,
    registered_date             DATE NOT NULL,
    framework_signed_date       DATE,
    contract_signed_date        DATE,
    planned_start_period        TEXT,
    contract_planned_start_period TEXT,
    planned_completion_period   TEXT,
    planned_production_period   TEXT,
    start_date                  DATE,
    completion_date             DATE,
    production_date             DATE,
    production_full             BOOLEAN NOT NULL DEFAULT 0,
    abandoned_date              DATE,
    cumulative_investment_yuan  INTEGER NOT NULL DEFAULT 0,
    cumulative_funds_yuan       INTEGER NOT NULL DEFAULT 0,
    -- yuan ÷ 10000 with 4 decimals, exactly (PostgreSQL: numeric(20, 4)).
    cumulative_investment_wan   TEXT GENERATED ALWAYS AS (
        printf('%s%d.%04d', CASE WHEN cumulative_investment_yuan < 0 THEN '-' ELSE '' END,
               abs(cumulative_investment_yuan) / 10000, abs(cumulative_investment_yuan) % 10000)) STORED,
    -- reporting.size_class(coalesce(contract_investment_yuan, intended_investment_yuan)).
    size_class                  TEXT NOT NULL GENERATED ALWAYS AS (
        CASE
            WHEN coalesce(contract_investment_yuan, intended_investment_yuan) < 5000000 THEN 'below_5m'
            WHEN coalesce(contract_investment_yuan, intended_investment_yuan) < 10000000 THEN '5m_10m'
            WHEN coalesce(contract_investment_yuan, intended_investment_yuan) < 100000000 THEN '10m_100m'
            WHEN coalesce(contract_investment_yuan, intended_investment_yuan) < 1000000000 THEN '100m_1b'
            ELSE 'from_1b' END) STORED,
    ytd_investment_yuan         INTEGER NOT NULL DEFAULT 0,
    start_light                 TEXT,
    investment_light            TEXT,
    light                       TEXT,
    stream_version              INTEGER NOT NULL,
    created_at                  TIMESTAMP NOT NULL,
    updated_at                  TIMESTAMP NOT NULL
);
CREATE INDEX reporting_projects_unit_idx ON reporting_projects (unit_id);

CREATE TABLE reporting_project_assignments (
    project_id     TEXT NOT NULL REFERENCES reporting_projects (project_id),
    seq            INTEGER NOT NULL,
    unit_id        TEXT NOT NULL,
    lead_official  TEXT NOT NULL,
    effective_date DATE NOT NULL,
    recorded_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (project_id, seq)
);

CREATE TABLE reporting_agreements (
    project_id                  TEXT NOT NULL REFERENCES reporting_projects (project_id),
    seq                         INTEGER NOT NULL,
    agreement_kind              TEXT NOT NULL,
    signed_date                 DATE NOT NULL,
    contract_investment_yuan    INTEGER NOT NULL,
    fixed_asset_investment_yuan INTEGER NOT NULL,
    land_demand_mu              TEXT NOT NULL,
    planned_start_period        TEXT NOT NULL,
    planned_completion_period   TEXT NOT NULL,
    planned_production_period   TEXT NOT NULL,
    recorded_at                 TIMESTAMP NOT NULL,
    PRIMARY KEY (project_id, seq)
);

CREATE TABLE reporting_annual_plans (
    project_id              TEXT NOT NULL REFERENCES reporting_projects (project_id),
    plan_year               INTEGER NOT NULL,
    revision                INTEGER NOT NULL,
    planned_investment_yuan INTEGER NOT NULL,
    planned_start_period    TEXT,
    reason                  TEXT,
    is_current              BOOLEAN NOT NULL,
    recorded_at             TIMESTAMP NOT NULL,
    PRIMARY KEY (project_id, plan_year, revision)
);

CREATE TABLE reporting_project_milestones (
    project_id    TEXT NOT NULL REFERENCES reporting_projects (project_id),
    milestone     TEXT NOT NULL,
    business_date DATE NOT NULL,
    recorded_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (project_id, milestone)
);

CREATE TABLE reporting_monthly_investment_reports (
    project_id                TEXT NOT NULL REFERENCES reporting_projects (project_id),
    period                    TEXT NOT NULL,
    revision                  INTEGER NOT NULL,
    completed_investment_yuan INTEGER NOT NULL,
    funds_in_place_yuan       INTEGER NOT NULL,
    reason                    TEXT,
    actor                     TEXT NOT NULL,
    recorded_at               TIMESTAMP NOT NULL,
    PRIMARY KEY (project_id, period, revision)
);

CREATE TABLE reporting_monthly_investment (
    project_id                         TEXT NOT NULL REFERENCES reporting_projects (project_id),
    period                             TEXT NOT NULL,
    reported_completed_investment_yuan INTEGER NOT NULL,
    reported_funds_in_place_yuan       INTEGER NOT NULL,
    completed_investment_yuan          INTEGER NOT NULL,
    funds_in_place_yuan                INTEGER NOT NULL,
    -- yuan ÷ 10000 with 4 decimals, exactly (PostgreSQL: numeric(20, 4)).
    completed_investment_wan           TEXT GENERATED ALWAYS AS (
        printf('%s%d.%04d', CASE WHEN completed_investment_yuan < 0 THEN '-' ELSE '' END,
               abs(completed_investment_yuan) / 10000, abs(completed_investment_yuan) % 10000)) STORED,
    correction_count                   INTEGER NOT NULL,
    reported_at                        TIMESTAMP NOT NULL,
    corrected_at                       TIMESTAMP,
    PRIMARY KEY (project_id, period)
);

CREATE TABLE reporting_expropriation_targets (
    project_id      TEXT PRIMARY KEY REFERENCES reporting_projects (project_id),
    area_mu         TEXT NOT NULL,
    households      INTEGER NOT NULL,
    graves          INTEGER NOT NULL,
    township        TEXT NOT NULL,
    deadline_date   DATE NOT NULL,
    recorded_at     TIMESTAMP NOT NULL
);

CREATE TABLE reporting_expropriation_reports (
    project_id           TEXT NOT NULL REFERENCES reporting_projects (project_id),
    seq                  INTEGER NOT NULL,
    as_of_date           DATE NOT NULL,
    area_mu              TEXT NOT NULL,
    households_signed    INTEGER NOT NULL,
    households_relocated INTEGER NOT NULL,
    graves_moved         INTEGER NOT NULL,
    compensation_yuan    INTEGER NOT NULL,
    recorded_at          TIMESTAMP NOT NULL,
    PRIMARY KEY (project_id, seq)
);

-- The two percentages are reporting.percent_of(part, whole): round(part × 100 ÷ whole, 2), null
-- unless whole > 0. Here in integers: areas are 4-decimal text (the projection writes them so), so
-- dropping the point gives ten-thousandths; hundredths of a percent = (20000·part + whole) div
-- (2·whole), which rounds half up like PostgreSQL's round() does for these non-negative values
-- (areas and counts are never negative: the CHECKs refuse what the formula does not cover), and
-- stays far inside 64 bits (areas are below 10^10 mu, domain `Mu`).
CREATE TABLE reporting_expropriation_progress (
    project_id           TEXT PRIMARY KEY REFERENCES reporting_projects (project_id),
    target_area_mu       TEXT CHECK (target_area_mu NOT LIKE '-%'),
    target_households    INTEGER CHECK (target_households >= 0),
    target_graves        INTEGER,
    deadline_date        DATE,
    as_of_date           DATE,
    area_mu              TEXT NOT NULL CHECK (area_mu NOT LIKE '-%'),
    households_signed    INTEGER NOT NULL CHECK (households_signed >= 0),
    households_relocated INTEGER NOT NULL,
    graves_moved         INTEGER NOT NULL,
    compensation_yuan    INTEGER NOT NULL,
    area_completion_pct  TEXT GENERATED ALWAYS AS (
        CASE WHEN CAST(replace(target_area_mu, '.', '') AS INTEGER) > 0 THEN printf('%d.%02d',
            (20000 * CAST(replace(area_mu, '.', '') AS INTEGER) + CAST(replace(target_area_mu, '.', '') AS INTEGER))
                / (2 * CAST(replace(target_area_mu, '.', '') AS INTEGER)) / 100,
            (20000 * CAST(replace(area_mu, '.', '') AS INTEGER) + CAST(replace(target_area_mu, '.', '') AS INTEGER))
                / (2 * CAST(replace(target_area_mu, '.', '') AS INTEGER)) % 100) END) STORED,
    households_completion_pct TEXT GENERATED ALWAYS AS (
        CASE WHEN target_households > 0 THEN printf('%d.%02d',
            (20000 * households_signed + target_households) / (2 * target_households) / 100,
            (20000 * households_signed + target_households) / (2 * target_households) % 100) END) STORED,
    land_delivered_mu    TEXT NOT NULL,
    updated_at           TIMESTAMP NOT NULL
);

CREATE TABLE reporting_land_deliveries (
    project_id     TEXT NOT NULL REFERENCES reporting_projects (project_id),
    parcel_no      TEXT NOT NULL,
    area_mu        TEXT NOT NULL,
    delivered_date DATE NOT NULL,
    recorded_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (project_id, parcel_no)
);

CREATE TABLE reporting_targets (
    target_year  INTEGER NOT NULL,
    scope        TEXT NOT NULL,
    metric       TEXT NOT NULL,
    revision     INTEGER NOT NULL,
    target_value TEXT NOT NULL,
    reason       TEXT,
    is_current   BOOLEAN NOT NULL,
    recorded_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (target_year, scope, metric, revision)
);

-- Written by the metric functions on PostgreSQL (reporting.refresh_current); not yet on SQLite
-- (docs/sqlite.md): the table exists so that BI queries find it, empty.
CREATE TABLE reporting_target_progress (
    target_year       INTEGER NOT NULL,
    scope             TEXT NOT NULL,
    metric            TEXT NOT NULL,
    target_value      TEXT,
    actual_value      TEXT NOT NULL,
    completion_pct    TEXT,
    time_progress_pct TEXT NOT NULL,
    gap_pp            TEXT,
    light             TEXT,
    as_of_date        DATE NOT NULL,
    computed_at       TIMESTAMP NOT NULL,
    PRIMARY KEY (target_year, scope, metric)
);

CREATE TABLE reporting_supervision_items (
    item_id              TEXT PRIMARY KEY,
    project_id           TEXT NOT NULL,
    title                TEXT NOT NULL,
    category             TEXT NOT NULL,
    lead_unit_id         TEXT NOT NULL,
    co_unit_ids          JSON NOT NULL,
    opened_date          DATE NOT NULL,
    deadline_date        DATE NOT NULL,
    item_status          TEXT NOT NULL,
    feedback_count       INTEGER NOT NULL DEFAULT 0,
    last_feedback_date   DATE,
    extension_count      INTEGER NOT NULL DEFAULT 0,
    closed_date          DATE,
    accountability_count INTEGER NOT NULL DEFAULT 0,
    due_soon             BOOLEAN NOT NULL DEFAULT 0,
    overdue              BOOLEAN NOT NULL DEFAULT 0,
    opened_at            TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL,
    -- Added by 0101_reporting_metrics.sql on PostgreSQL (so it is last there too).
    closed_at            TIMESTAMP
);

CREATE TABLE reporting_accountability_records (
    item_id       TEXT NOT NULL REFERENCES reporting_supervision_items (item_id),
    seq           INTEGER NOT NULL,
    action        TEXT NOT NULL,
    subject       TEXT NOT NULL,
    action_date   DATE NOT NULL,
    recorded_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (item_id, seq)
);

CREATE TABLE reporting_rule_settings (
    seq          INTEGER PRIMARY KEY,
    rule         TEXT NOT NULL,
    settings     JSON NOT NULL,
    reason       TEXT,
    recorded_at  TIMESTAMP NOT NULL
);

-- Written by the metric functions on PostgreSQL; not yet on SQLite (see reporting_target_progress).
CREATE TABLE reporting_unit_ranking (
    ranking_year        INTEGER NOT NULL,
    unit_id             TEXT NOT NULL REFERENCES reporting_units (unit_id),
    rank                INTEGER NOT NULL,
    score               TEXT,
    target_count        INTEGER NOT NULL,
    red_projects        INTEGER NOT NULL,
    ytd_investment_yuan INTEGER NOT NULL,
    as_of_date          DATE NOT NULL,
    computed_at         TIMESTAMP NOT NULL,
    PRIMARY KEY (ranking_year, unit_id)
);

CREATE TABLE reporting_project_events (
    event_id       TEXT PRIMARY KEY,
    project_id     TEXT NOT NULL,
    stream_version INTEGER NOT NULL,
    event_type     TEXT NOT NULL,
    business_date  DATE,
    recorded_at    TIMESTAMP NOT NULL,
    actor          TEXT NOT NULL,
    summary        TEXT NOT NULL,
    data           JSON NOT NULL,
    UNIQUE (project_id, stream_version)
);

-- Freshness and health of each projection, as on PostgreSQL. The checkpoint itself is the row of
-- `checkpoints` named after the projection; position_* here repeat it for readers.
CREATE TABLE reporting_projection_status (
    projection       TEXT PRIMARY KEY,
    state            TEXT NOT NULL,
    position_commit  INTEGER NOT NULL DEFAULT 0,
    position_prepare INTEGER NOT NULL DEFAULT 0,
    events_applied   INTEGER NOT NULL DEFAULT 0,
    last_event_at    TIMESTAMP,
    lag_events       INTEGER NOT NULL DEFAULT 0,
    lag_seconds      REAL NOT NULL DEFAULT 0,
    error            TEXT,
    error_position_commit  INTEGER,
    error_position_prepare INTEGER,
    error_event_id   TEXT,
    holder           TEXT,
    updated_at       TIMESTAMP NOT NULL
);

-- Who runs each projection (SQLite has no advisory locks): a runner holds the lease while
-- expires_at (microseconds since the Unix epoch) is in the future and renews it in every batch
-- transaction; another runner takes it over only once it has expired.
CREATE TABLE projection_leases (
    projection  TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    expires_at  INTEGER NOT NULL
);
