// `sqlx::migrate!` embeds the migration files at compile time, but cargo does not know they are
// inputs: without this, adding a migration leaves an incremental build running the old set.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
