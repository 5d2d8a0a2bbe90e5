//! `trust.files`: the CA certificates kepgate verifies signatures against, read at start.

use anyhow::Context;

use crate::signature::{LoadReport, TrustList};

/// Loads every trust file (PEM or PKCS#7), logging what each contained by algorithm and curve,
/// and what was skipped or cannot verify anything; with each file's report (`check-config`
/// prints them).
pub fn load_trust_files(
    files: &[std::path::PathBuf],
) -> anyhow::Result<(TrustList, Vec<(std::path::PathBuf, LoadReport)>)> {
    let mut all = TrustList::new();
    let mut reports = Vec::new();
    for path in files {
        let bytes = std::fs::read(path)
            .with_context(|| format!("trust.files: cannot read {}", path.display()))?;
        let (list, report) = TrustList::from_bytes(&bytes).with_context(|| {
            format!(
                "trust.files: {} is neither PEM nor a PKCS#7 bundle",
                path.display()
            )
        })?;
        tracing::info!(
            file = %path.display(),
            loaded = report.loaded,
            dstu4145 = report.dstu4145_le + report.dstu4145_be,
            ecdsa = report.ecdsa,
            rsa = report.rsa,
            duplicates = report.duplicates,
            skipped = report.skipped.len(),
            unusable = report.unusable_keys.len(),
            "trust list loaded: {}",
            report.summary()
        );
        for skipped in &report.skipped {
            tracing::warn!(file = %path.display(), index = skipped.index, reason = %skipped.reason, "trust list entry skipped");
        }
        for unusable in &report.unusable_keys {
            tracing::warn!(file = %path.display(), index = unusable.index, reason = %unusable.reason, "trust list entry loaded, but its key cannot verify signatures");
        }
        all.merge(list);
        reports.push((path.clone(), report));
    }
    Ok((all, reports))
}
