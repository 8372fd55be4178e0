//! `mmu-sim generate`: a config's synthetic workload written as a native trace.

use workload::GeneratorConfig;

/// Writes the synthetic workload of `generator` (seeded by `seed`) in the native
/// trace format, `repeat` times over, to `out`: `mmu-sim generate`, whose output
/// `mmu-sim run --trace -` reads back.
///
/// # Errors
/// Writing failed (a closed pipe included).
pub fn write_generated(
    generator: &GeneratorConfig,
    seed: u64,
    repeat: u64,
    out: &mut impl std::io::Write,
) -> std::io::Result<u64> {
    let mut buf = Vec::with_capacity(1 << 17);
    let mut lines = 0;
    for _ in 0..repeat {
        for event in generator.build(seed) {
            workload::write_native(&event, &mut buf);
            lines += 1;
            if buf.len() >= 1 << 16 {
                out.write_all(&buf)?;
                buf.clear();
            }
        }
    }
    out.write_all(&buf)?;
    out.flush()?;
    Ok(lines)
}
