//! `sqlx::migrate!` embeds each migration file with `include_str!`, so an edited file triggers a
//! rebuild, but on stable Rust a file *added* to the directory does not: without this, a new
//! migration would be silently missing from the binary until something else changed here.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations/postgres");
    println!("cargo:rerun-if-changed=../../migrations/sqlite");
}
