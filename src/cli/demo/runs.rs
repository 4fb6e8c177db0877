//! The demo runs: the fixtures embedded in the binary, so `signoff demo` needs no checkout.

/// Every file of `fixtures/runs/`, as (file name, text).
pub const RUNS: &[(&str, &str)] = &[
    ("hostile-ansi-vendor-name.json", include_str!("../../../fixtures/runs/hostile-ansi-vendor-name.json")),
    ("hostile-bidi-invoice-number.json", include_str!("../../../fixtures/runs/hostile-bidi-invoice-number.json")),
    ("hostile-cjk-vendor-name.json", include_str!("../../../fixtures/runs/hostile-cjk-vendor-name.json")),
    ("hostile-long-description.json", include_str!("../../../fixtures/runs/hostile-long-description.json")),
    ("hostile-osc52-description.json", include_str!("../../../fixtures/runs/hostile-osc52-description.json")),
    (
        "hostile-zero-width-vendor-account.json",
        include_str!("../../../fixtures/runs/hostile-zero-width-vendor-account.json"),
    ),
    ("inv-demf-apinv-000052.json", include_str!("../../../fixtures/runs/inv-demf-apinv-000052.json")),
    ("inv-usmf-apinv-000098.json", include_str!("../../../fixtures/runs/inv-usmf-apinv-000098.json")),
    ("inv-usmf-apinv-000123.json", include_str!("../../../fixtures/runs/inv-usmf-apinv-000123.json")),
    ("inv-usmf-apinv-000124.json", include_str!("../../../fixtures/runs/inv-usmf-apinv-000124.json")),
    ("inv-usmf-apinv-000131.json", include_str!("../../../fixtures/runs/inv-usmf-apinv-000131.json")),
    ("inv-usmf-apinv-000140.json", include_str!("../../../fixtures/runs/inv-usmf-apinv-000140.json")),
    ("inv-usmf-apinv-000150.json", include_str!("../../../fixtures/runs/inv-usmf-apinv-000150.json")),
    ("jnl-demf-00112.json", include_str!("../../../fixtures/runs/jnl-demf-00112.json")),
    ("jnl-usmf-00461.json", include_str!("../../../fixtures/runs/jnl-usmf-00461.json")),
    ("jnl-usmf-00478.json", include_str!("../../../fixtures/runs/jnl-usmf-00478.json")),
    ("jnl-usmf-00482.json", include_str!("../../../fixtures/runs/jnl-usmf-00482.json")),
    ("usr-disable-jmorales.json", include_str!("../../../fixtures/runs/usr-disable-jmorales.json")),
    ("usr-enable-akumar.json", include_str!("../../../fixtures/runs/usr-enable-akumar.json")),
    ("vnd-demf-de-001.json", include_str!("../../../fixtures/runs/vnd-demf-de-001.json")),
    ("vnd-usmf-us-104.json", include_str!("../../../fixtures/runs/vnd-usmf-us-104.json")),
    ("vnd-usmf-us-108.json", include_str!("../../../fixtures/runs/vnd-usmf-us-108.json")),
    ("wrk-000124-title.json", include_str!("../../../fixtures/runs/wrk-000124-title.json")),
];

#[cfg(test)]
mod tests {
    #[test]
    fn every_fixture_run_is_embedded_in_the_demo() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/runs");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".json"))
            .collect();
        on_disk.sort();
        let embedded: Vec<String> = super::RUNS.iter().map(|(name, _)| name.to_string()).collect();
        assert_eq!(embedded, on_disk, "add new fixtures to src/cli/demo/runs.rs");
    }
}
