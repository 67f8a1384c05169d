//! The Docker deployment, checked without a Docker engine: docker-compose.yml against the Compose
//! Specification's JSON schema (tests/fixtures/compose-spec.json), and the compose file, the
//! Dockerfile, the postgres init script and the Metabase setup against the server they deploy —
//! flags, port, health check, logins. A rename on one side only fails here.
//!
//! The last test runs deploy/postgres/initdb/10-taizhang-roles.sh against the real PostgreSQL and
//! runs the server, the projectors and a BI reader with the logins it creates, as compose does.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::time::{Duration, Instant};

use api::{Application, Config};
use clap::CommandFactory;
use commands::CommandHandler;
use eventstore::PgEventStore;
use eventstore::postgres::testing::{TestDatabase, admin_connection, database_url};
use projections::{Which, wait_for};
use serde_json::Value;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection, PgPool};

/// The service names the checks below are about.
const POSTGRES: &str = "postgres";
const MIGRATE: &str = "migrate";
const SERVER: &str = "taizhang";
const METABASE: &str = "metabase";
const METABASE_SETUP: &str = "metabase-setup";

fn repo() -> PathBuf {
    // This package is the workspace member `tests/`.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

fn read(relative: &str) -> String {
    let path = repo().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn compose() -> Value {
    serde_norway::from_str(&read("docker-compose.yml")).expect("docker-compose.yml is YAML")
}

fn service<'a>(compose: &'a Value, name: &str) -> &'a Value {
    compose["services"]
        .get(name)
        .unwrap_or_else(|| panic!("docker-compose.yml has no service {name}"))
}

/// Compose's interpolation as `docker compose up` does it without a `.env` or exported variables:
/// `${VAR:-default}` and `${VAR-default}` give the default, `$$` is a literal `$`. A variable
/// without a default fails the test: the demo must start without a `.env`.
fn interpolate(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        rest = &rest[dollar + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            out.push('$');
            rest = after;
        } else if let Some(after) = rest.strip_prefix('{') {
            let end = after
                .find('}')
                .unwrap_or_else(|| panic!("unclosed ${{ in {text:?}"));
            let expression = &after[..end];
            let default = expression
                .split_once(":-")
                .or_else(|| expression.split_once('-'))
                .map(|(_, default)| default)
                .unwrap_or_else(|| panic!("${{{expression}}} has no default (in {text:?})"));
            out.push_str(default);
            rest = &after[end + 1..];
        } else {
            panic!("write ${{NAME:-default}}, not a bare $NAME (in {text:?})");
        }
    }
    out.push_str(rest);
    out
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => interpolate(s),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => panic!("expected a scalar, found {other}"),
    }
}

/// A service's environment, interpolated; the map and the `KEY=value` list forms alike.
fn environment(service: &Value) -> BTreeMap<String, String> {
    match &service["environment"] {
        Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), text_of(v))).collect(),
        Value::Array(list) => list
            .iter()
            .map(|entry| {
                let entry = text_of(entry);
                let (k, v) = entry.split_once('=').unwrap_or((&entry, ""));
                (k.to_owned(), v.to_owned())
            })
            .collect(),
        Value::Null => BTreeMap::new(),
        other => panic!("unexpected environment {other}"),
    }
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("expected a list, found {value}"))
        .iter()
        .map(text_of)
        .collect()
}

/// The container ports a service publishes ("host:container", "ip:host:container", "/tcp").
fn container_ports(service: &Value) -> Vec<u16> {
    strings(&service["ports"])
        .iter()
        .map(|mapping| {
            let container = mapping.rsplit(':').next().unwrap_or(mapping);
            let container = container.split('/').next().unwrap_or(container);
            container
                .parse()
                .unwrap_or_else(|e| panic!("port {mapping:?}: {e}"))
        })
        .collect()
}

/// `postgres://user:password@host:port/database`, split.
struct DbUrl {
    user: String,
    password: String,
    host: String,
    port: u16,
    database: String,
}

fn db_url(url: &str) -> DbUrl {
    let rest = url
        .strip_prefix("postgres://")
        .unwrap_or_else(|| panic!("{url} is not a postgres:// URL"));
    let (credentials, location) = rest.rsplit_once('@').expect("URL has user@host");
    let (user, password) = credentials.split_once(':').expect("URL has a password");
    let (host_port, database) = location.split_once('/').expect("URL names a database");
    let (host, port) = host_port.split_once(':').expect("URL names a port");
    DbUrl {
        user: user.to_owned(),
        password: password.to_owned(),
        host: host.to_owned(),
        port: port.parse().expect("numeric port"),
        database: database.to_owned(),
    }
}

/// Every environment variable the binary reads: the server's flags from their clap definitions
/// (`api::ServeArgs`), the global ones (database URL, log format) from the binary's CLI source.
fn server_env_vars() -> BTreeSet<String> {
    #[derive(clap::Parser)]
    struct Serve {
        #[command(flatten)]
        args: api::ServeArgs,
    }
    let mut vars: BTreeSet<String> = Serve::command()
        .get_arguments()
        .filter_map(|arg| arg.get_env())
        .map(|env| env.to_string_lossy().into_owned())
        .collect();
    assert!(vars.contains("TAIZHANG_LISTEN"), "{vars:?}");
    let cli = read("crates/taizhang/src/cli.rs");
    let global: Vec<&str> = cli
        .split("env = \"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert!(global.contains(&"DATABASE_URL"), "cli.rs: {global:?}");
    vars.extend(global.into_iter().map(str::to_owned));
    vars
}

/// The Dockerfile's instructions, continuation lines joined and comments dropped.
fn dockerfile() -> Vec<(String, String)> {
    let mut instructions = Vec::new();
    let mut current = String::new();
    for line in read("Dockerfile").lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(part) => {
                current.push_str(part);
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                let (keyword, arguments) = current
                    .split_once(char::is_whitespace)
                    .unwrap_or((&current, ""));
                instructions.push((keyword.to_uppercase(), arguments.trim().to_owned()));
                current.clear();
            }
        }
    }
    instructions
}

/// The instructions of the last stage (the image that runs).
fn runtime_stage(instructions: &[(String, String)]) -> &[(String, String)] {
    let last_from = instructions
        .iter()
        .rposition(|(keyword, _)| keyword == "FROM")
        .expect("the Dockerfile has a FROM");
    &instructions[last_from..]
}

/// `["a", "b"]` (exec form) as a list.
fn exec_form(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not exec form {text:?}: {e}"))
}

#[test]
fn compose_file_follows_the_compose_specification() {
    let schema: Value =
        serde_json::from_str(&read("tests/fixtures/compose-spec.json")).expect("schema is JSON");
    let validator = jsonschema::draft7::new(&schema).expect("the schema compiles");
    let compose = compose();
    let errors: Vec<String> = validator
        .iter_errors(&compose)
        .map(|e| format!("at {}: {e}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "docker-compose.yml: {errors:#?}");

    // The validation has teeth: a misspelt key and a wrongly typed value are refused.
    let mut misspelt = compose.clone();
    misspelt["services"][SERVER]["healtcheck"] =
        misspelt["services"][SERVER]["healthcheck"].clone();
    assert!(!validator.is_valid(&misspelt));
    let mut mistyped = compose;
    mistyped["services"][SERVER]["depends_on"] = Value::from(5);
    assert!(!validator.is_valid(&mistyped));
}

#[test]
fn every_variable_has_a_default_and_named_volumes_are_declared() {
    let compose = compose();
    let services = compose["services"].as_object().expect("services");
    let declared: BTreeSet<&str> = compose["volumes"]
        .as_object()
        .expect("top-level volumes")
        .keys()
        .map(String::as_str)
        .collect();
    let mut used = BTreeSet::new();
    for (name, service) in services {
        // interpolate() panics on a variable without a default.
        let _ = environment(service);
        if let Some(image) = service.get("image") {
            let _ = text_of(image);
        }
        for volume in service.get("volumes").map(strings).unwrap_or_default() {
            let source = volume.split(':').next().unwrap_or_default().to_owned();
            if source.starts_with('.') || source.starts_with('/') {
                assert!(
                    repo().join(&source).exists(),
                    "{name} mounts {source}, which is not in the repository"
                );
            } else {
                used.insert(source);
            }
        }
    }
    let used: BTreeSet<&str> = used.iter().map(String::as_str).collect();
    assert_eq!(used, declared, "named volumes used = declared");
    assert!(used.contains("pgdata") && used.contains("metabase-data"));
}

#[test]
fn the_server_service_agrees_with_the_server_and_the_dockerfile() {
    let compose = compose();
    let known = server_env_vars();
    for name in [SERVER, MIGRATE] {
        for key in environment(service(&compose, name)).keys() {
            if key.starts_with("TAIZHANG_") || key == "DATABASE_URL" {
                assert!(
                    known.contains(key),
                    "{name} sets {key}, which `taizhang serve` does not read (known: {known:?})"
                );
            }
        }
    }
    for (name, service) in compose["services"].as_object().expect("services") {
        assert!(
            !environment(service).contains_key("TAIZHANG_INSECURE_NO_AUTH"),
            "{name}: the compose deployment runs with access control"
        );
    }

    let server = service(&compose, SERVER);
    let env = environment(server);
    let listen: SocketAddr = env["TAIZHANG_LISTEN"].parse().expect("TAIZHANG_LISTEN");
    assert!(
        listen.ip().is_unspecified(),
        "in a container the server listens on every interface, not {listen}"
    );
    assert_eq!(
        container_ports(server),
        vec![listen.port()],
        "published port"
    );
    assert_eq!(
        env["TAIZHANG_MIGRATE"], "false",
        "the server's login cannot migrate"
    );
    assert_eq!(strings(&server["command"]), ["serve"]);
    assert_eq!(text_of(&server["restart"]), "unless-stopped");
    assert_eq!(
        server["depends_on"][POSTGRES]["condition"],
        "service_healthy"
    );
    assert_eq!(
        server["depends_on"][MIGRATE]["condition"],
        "service_completed_successfully"
    );

    // The health check: `taizhang healthcheck` GETs /healthz on TAIZHANG_LISTEN, and the server
    // serves /healthz (the database test below GETs it).
    let health = strings(&server["healthcheck"]["test"]);
    assert_eq!(health, ["CMD", "taizhang", "healthcheck"]);
    let probe = read("crates/taizhang/src/commands/healthcheck.rs");
    assert!(probe.contains("env = \"TAIZHANG_LISTEN\""));
    assert!(probe.contains("HEALTH_PATH: &str = \"/healthz\""));

    // The Dockerfile builds the image both services run, with the same port and health check.
    assert_eq!(text_of(&server["build"]), ".");
    assert_eq!(text_of(&service(&compose, MIGRATE)["build"]), ".");
    assert_eq!(
        text_of(&server["image"]),
        text_of(&service(&compose, MIGRATE)["image"])
    );
    let instructions = dockerfile();
    let runtime = runtime_stage(&instructions);
    let of = |keyword: &str| -> Vec<&str> {
        runtime
            .iter()
            .filter(|(k, _)| k == keyword)
            .map(|(_, arguments)| arguments.as_str())
            .collect()
    };
    assert_eq!(of("EXPOSE"), [listen.port().to_string()]);
    let image_listen = of("ENV")
        .iter()
        .flat_map(|line| line.split_whitespace())
        .find_map(|pair| pair.strip_prefix("TAIZHANG_LISTEN="))
        .expect("the image sets TAIZHANG_LISTEN");
    assert_eq!(image_listen, listen.to_string());
    // Without DATABASE_URL the image keeps its embedded store in the data directory the CLI
    // reads from TAIZHANG_DATA_DIR: the image's working directory, a volume.
    let data_dir = of("ENV")
        .iter()
        .flat_map(|line| line.split_whitespace())
        .find_map(|pair| pair.strip_prefix("TAIZHANG_DATA_DIR="))
        .expect("the image sets TAIZHANG_DATA_DIR");
    assert_eq!(of("WORKDIR"), [data_dir]);
    assert_eq!(of("VOLUME"), [data_dir]);
    assert!(read("crates/taizhang/src/cli.rs").contains("env = \"TAIZHANG_DATA_DIR\""));
    let healthcheck = of("HEALTHCHECK");
    let (_, cmd) = healthcheck
        .first()
        .and_then(|h| h.split_once("CMD "))
        .expect("HEALTHCHECK ... CMD [...]");
    assert_eq!(exec_form(cmd), health[1..]);
    assert_eq!(exec_form(of("ENTRYPOINT")[0]), ["taizhang"]);
    assert_eq!(exec_form(of("CMD")[0]), ["serve"]);
}

#[test]
fn database_urls_name_the_postgres_service_and_its_logins() {
    let compose = compose();
    let postgres = environment(service(&compose, POSTGRES));
    let server = db_url(&environment(service(&compose, SERVER))["DATABASE_URL"]);
    let migrate = db_url(&environment(service(&compose, MIGRATE))["DATABASE_URL"]);
    for url in [&server, &migrate] {
        assert_eq!(url.host, POSTGRES);
        assert_eq!(url.port, 5432);
        assert_eq!(url.database, postgres["POSTGRES_DB"]);
    }
    // The server as the service login of the init script; migrations as the superuser.
    assert_eq!(server.user, postgres["TAIZHANG_DB_USER"]);
    assert_eq!(server.password, postgres["TAIZHANG_DB_PASSWORD"]);
    assert_eq!(migrate.user, postgres["POSTGRES_USER"]);
    assert_eq!(migrate.password, postgres["POSTGRES_PASSWORD"]);
    assert_eq!(strings(&service(&compose, MIGRATE)["command"]), ["migrate"]);
    assert_eq!(
        text_of(&service(&compose, MIGRATE)["restart"]),
        "no",
        "one-shot"
    );

    let pg = service(&compose, POSTGRES);
    assert_eq!(text_of(&pg["image"]), "postgres:15");
    assert!(
        strings(&pg["healthcheck"]["test"])
            .join(" ")
            .contains("pg_isready")
    );
    assert!(
        strings(&pg["volumes"])
            .contains(&"./deploy/postgres/initdb:/docker-entrypoint-initdb.d:ro".to_owned())
    );
    let script = read("deploy/postgres/initdb/10-taizhang-roles.sh");
    for variable in [
        "TAIZHANG_DB_USER",
        "TAIZHANG_DB_PASSWORD",
        "METABASE_DB_USER",
        "METABASE_DB_PASSWORD",
    ] {
        assert!(
            script.contains(variable),
            "the init script reads {variable}"
        );
    }
}

#[test]
fn the_bi_profile_adds_metabase_connected_as_the_analytics_login() {
    let compose = compose();
    for (name, service) in compose["services"].as_object().expect("services") {
        let profiles = service.get("profiles").map(strings).unwrap_or_default();
        if name == METABASE || name == METABASE_SETUP {
            assert_eq!(profiles, ["bi"], "{name}");
        } else {
            assert!(profiles.is_empty(), "{name} starts without a profile");
        }
    }

    let metabase = service(&compose, METABASE);
    assert!(text_of(&metabase["image"]).starts_with("metabase/metabase:"));
    assert_eq!(container_ports(metabase), [3000]);
    assert!(
        strings(&metabase["healthcheck"]["test"])
            .join(" ")
            .contains("localhost:3000/api/health")
    );
    let app_db = environment(metabase)["MB_DB_FILE"].clone();
    assert!(
        strings(&metabase["volumes"])
            .iter()
            .any(|v| v.starts_with("metabase-data:")
                && app_db.starts_with(v.split(':').nth(1).unwrap_or("-"))),
        "Metabase's application database {app_db} lives in its named volume"
    );

    let postgres = environment(service(&compose, POSTGRES));
    let setup = service(&compose, METABASE_SETUP);
    let env = environment(setup);
    assert_eq!(env["MB_URL"], "http://metabase:3000");
    assert_eq!(env["TAIZHANG_DB_HOST"], POSTGRES);
    assert_eq!(env["TAIZHANG_DB_PORT"], "5432");
    assert_eq!(env["TAIZHANG_DB_NAME"], postgres["POSTGRES_DB"]);
    // The BI login the init script puts in taizhang_analytics (the database test checks that).
    assert_eq!(env["METABASE_DB_USER"], postgres["METABASE_DB_USER"]);
    assert_eq!(
        env["METABASE_DB_PASSWORD"],
        postgres["METABASE_DB_PASSWORD"]
    );
    assert_eq!(
        setup["depends_on"][METABASE]["condition"],
        "service_healthy"
    );
    assert_eq!(setup["depends_on"][SERVER]["condition"], "service_healthy");
    assert_eq!(strings(&setup["command"]), ["python3", "/setup/setup.py"]);
    assert!(strings(&setup["volumes"]).contains(&"./deploy/metabase:/setup:ro".to_owned()));

    // The script reads what compose gives it and connects to `reporting` only.
    let script = read("deploy/metabase/setup.py");
    for key in env.keys() {
        assert!(
            script.contains(&format!("\"{key}\"")),
            "setup.py reads {key}"
        );
    }
    assert!(script.contains("REPORTING_SCHEMA = \"reporting\""));
    assert!(script.contains("\"schema-filters-type\": \"inclusion\""));
}

#[test]
fn the_dockerfile_builds_in_stages_and_runs_unprivileged() {
    let instructions = dockerfile();
    let stages: Vec<&str> = instructions
        .iter()
        .filter(|(k, _)| k == "FROM")
        .map(|(_, a)| a.as_str())
        .collect();
    assert!(stages.len() >= 2, "multi-stage: {stages:?}");
    assert!(stages[0].starts_with("rust:") && stages[0].ends_with(" AS builder"));
    assert!(
        stages
            .last()
            .is_some_and(|s| s.starts_with("debian:") && s.contains("-slim"))
    );

    // The builder's toolchain is at least the workspace's rust-version.
    let workspace = read("Cargo.toml");
    let minimum = workspace
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .expect("rust-version in Cargo.toml")
        .trim_matches('"');
    let builder = instructions
        .iter()
        .find_map(|(k, a)| {
            (k == "ARG")
                .then(|| a.strip_prefix("RUST_VERSION="))
                .flatten()
        })
        .expect("ARG RUST_VERSION=");
    let version = |v: &str| -> Vec<u32> { v.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    assert!(
        version(builder) >= version(minimum),
        "rust {builder} < {minimum}"
    );

    let builds: Vec<&str> = instructions
        .iter()
        .filter(|(k, a)| k == "RUN" && a.contains("cargo build"))
        .map(|(_, a)| a.as_str())
        .collect();
    assert!(
        builds.len() == 1 && builds[0].contains("cargo build --release --locked -p taizhang"),
        "{builds:?}"
    );

    // The image that runs: the binary from the builder, an unprivileged numeric user last.
    let runtime = runtime_stage(&instructions);
    assert!(
        runtime
            .iter()
            .any(|(k, a)| k == "COPY" && a.starts_with("--from=builder "))
    );
    let user = runtime
        .iter()
        .rev()
        .find(|(k, _)| k == "USER")
        .map(|(_, a)| a.as_str())
        .expect("the runtime stage sets USER");
    let uid: u32 = user
        .split(':')
        .next()
        .unwrap_or_default()
        .parse()
        .expect("numeric USER");
    assert_ne!(uid, 0, "USER must not be root");
    assert!(
        !runtime
            .iter()
            .skip_while(|(k, _)| k != "USER")
            .any(|(k, _)| k == "RUN"),
        "nothing runs as root after USER"
    );
    assert!(
        read(".dockerignore").lines().any(|l| l.trim() == "target/"),
        ".dockerignore keeps target/ out of the build context"
    );
}

/// Runs the init script against the development PostgreSQL as the postgres image would (as the
/// superuser, on the database POSTGRES_DB), with logins of the test's own (roles are cluster-wide).
fn run_init_script(database: &str, service_login: &str, bi_login: &str) {
    let options: PgConnectOptions = database_url().parse().expect("DATABASE_URL");
    let output = Process::new("bash")
        .arg(repo().join("deploy/postgres/initdb/10-taizhang-roles.sh"))
        .env("PGHOST", options.get_host())
        .env("PGPORT", options.get_port().to_string())
        .env("POSTGRES_USER", options.get_username())
        .env("POSTGRES_DB", database)
        .env("TAIZHANG_DB_USER", service_login)
        .env("TAIZHANG_DB_PASSWORD", "service-password")
        .env("METABASE_DB_USER", bi_login)
        .env("METABASE_DB_PASSWORD", "bi-password")
        .output()
        .expect("bash runs (and psql is installed)");
    assert!(
        output.status.success(),
        "init script failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn url_as(url: &str, login: &str) -> String {
    let options: PgConnectOptions = url.parse().expect("URL");
    url.replacen(
        &format!("://{}@", options.get_username()),
        &format!("://{login}@"),
        1,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_init_script_logins_run_the_server_and_read_reporting() {
    let db = TestDatabase::empty().await;
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let service_login = format!("tz_compose_svc_{}", &suffix[..12]);
    let bi_login = format!("tz_compose_bi_{}", &suffix[..12]);

    // Before the first migration, as on a fresh volume; and again, which changes nothing.
    run_init_script(&db.name, &service_login, &bi_login);
    run_init_script(&db.name, &service_login, &bi_login);

    let mut admin = PgConnection::connect(&db.url).await.expect("superuser");
    let (in_service, in_analytics, privileged): (bool, bool, bool) = sqlx::query_as(
        "SELECT pg_has_role($1, 'taizhang_service', 'MEMBER'), \
                pg_has_role($2, 'taizhang_analytics', 'MEMBER'), \
                EXISTS (SELECT 1 FROM pg_roles WHERE rolname IN ($1, $2) \
                        AND (rolsuper OR rolcreaterole OR rolcreatedb OR NOT rolcanlogin))",
    )
    .bind(&service_login)
    .bind(&bi_login)
    .fetch_one(&mut admin)
    .await
    .expect("role query");
    assert!(in_service && in_analytics && !privileged);

    // The compose `migrate` service: migrations as the superuser.
    let superuser = PgPool::connect(&db.url).await.expect("pool");
    PgEventStore::new(superuser.clone())
        .migrate()
        .await
        .expect("migrations");

    // The compose `taizhang` service: the server as the service login, not migrating, sealing.
    let service_url = url_as(&db.url, &service_login);
    let mut config = Config::for_tests(service_url.clone());
    config.serve.migrate = false;
    config.serve.seal_every = 1;
    let app = Application::build(config)
        .await
        .expect("the server starts as the service login");
    let addr = app.local_addr();
    let shutdown = app.shutdown_handle();
    let server = tokio::spawn(app.run_until_stopped());
    let health = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .expect("GET /healthz");
    assert_eq!(health.status(), 200);

    // Writes through the command path with the same login, projected by the server's projectors.
    let service_pool = PgPool::connect(&service_url).await.expect("service pool");
    let today = commands::county_today();
    let handler =
        CommandHandler::new(PgEventStore::new(service_pool.clone())).with_today(move || today);
    let seeded = demo::seed(&handler, today, "compose")
        .await
        .expect("demo seed");
    let reached = wait_for(
        &superuser,
        Which::Named(&["ledger"]),
        seeded.head.expect("events were written"),
        Duration::from_secs(120),
    )
    .await
    .expect("wait for the ledger");
    assert!(reached.is_reached(), "{reached:?}");
    let ready = reqwest::get(format!("http://{addr}/readyz"))
        .await
        .expect("GET /readyz");
    assert_eq!(
        ready.status(),
        200,
        "{}",
        ready.text().await.unwrap_or_default()
    );

    // The periodic seal is written by the service login too.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let seals: i64 = sqlx::query_scalar("SELECT count(*) FROM eventstore.seals")
            .fetch_one(&superuser)
            .await
            .expect("count seals");
        if seals > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no seal written as the service login"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The BI login (Metabase's): reads the reporting tables, nothing else, read-only.
    let mut bi = PgConnection::connect(&url_as(&db.url, &bi_login))
        .await
        .expect("the BI login connects");
    let projects: i64 = sqlx::query_scalar("SELECT count(*) FROM reporting.projects")
        .fetch_one(&mut bi)
        .await
        .expect("the BI login reads reporting");
    assert_eq!(projects, i64::try_from(seeded.projects).expect("count"));
    let read_only: String = sqlx::query_scalar("SHOW default_transaction_read_only")
        .fetch_one(&mut bi)
        .await
        .expect("SHOW");
    assert_eq!(read_only, "on");
    let events = sqlx::query("SELECT 1 FROM eventstore.events LIMIT 1")
        .fetch_optional(&mut bi)
        .await;
    assert!(
        events.is_err(),
        "the BI login must not read the event store"
    );
    bi.close().await.ok();

    shutdown.shutdown();
    server
        .await
        .expect("server task")
        .expect("server stops cleanly");
    service_pool.close().await;
    superuser.close().await;
    admin.close().await.ok();
    db.drop_database().await;
    let mut cluster = admin_connection().await;
    for login in [&service_login, &bi_login] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP ROLE IF EXISTS {login}")))
            .execute(&mut cluster)
            .await
            .expect("drop the test login");
    }
}
