//! Writes an import file for `sesame identities import` benchmarks: N admin create bodies as JSON
//! lines, `user<i>@example.com` with the password `import-benchmark-password`, all sharing one
//! bcrypt hash (cost 10 by default). One hash for all, because computing 100 000 distinct bcrypt
//! hashes at cost 10 takes over an hour on two cores; Sesame stores imported hashes as they are,
//! so sharing one changes nothing about the import's speed.
//!
//! `cargo run --release -p sesame-cli --example import_file -- 100000 [COST] > users.jsonl`

use std::io::Write;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let count: u64 = args.next().as_deref().unwrap_or("100000").parse()?;
    let cost: u32 = args.next().as_deref().unwrap_or("10").parse()?;
    let hash = bcrypt::hash("import-benchmark-password", cost)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for i in 0..count {
        let body = serde_json::json!({
            "schema_id": "default",
            "traits": {"email": format!("user{i}@example.com"), "name": {"first": "User", "last": i.to_string()}},
            "credentials": {"password": {"config": {"hashed_password": hash}}},
            "metadata_public": {"imported": true},
        });
        serde_json::to_writer(&mut out, &body)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}
