//! A throwaway certificate authority for the tests: a CA and leaf certificates for any names
//! and validity, written as PEM files.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use time::{Duration, OffsetDateTime};

pub struct TestCa {
    params: CertificateParams,
    key: KeyPair,
    pub pem: String,
    /// The CA certificate as a PEM file, for clients that trust it.
    pub path: PathBuf,
}

impl TestCa {
    pub fn new(dir: &Path, name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("key");
        let pem = params.self_signed(&key).expect("self-signed CA").pem();
        let path = dir.join(format!("{}.ca.pem", name.replace(' ', "-")));
        std::fs::write(&path, &pem).expect("write CA");
        Self {
            params,
            key,
            pem,
            path,
        }
    }

    /// A leaf for `names`, valid from `from_days` to `to_days` relative to now. Returns the
    /// chain file (leaf, then this CA) and the key file.
    pub fn issue(
        &self,
        dir: &Path,
        stem: &str,
        names: &[&str],
        from_days: i64,
        to_days: i64,
    ) -> (PathBuf, PathBuf) {
        self.issue_with(
            dir,
            stem,
            names,
            from_days,
            to_days,
            KeyPair::generate().expect("key"),
        )
    }

    /// [`TestCa::issue`] for an RSA key (2048 bits, made by Debian's openssl).
    pub fn issue_rsa(
        &self,
        dir: &Path,
        stem: &str,
        names: &[&str],
        to_days: i64,
    ) -> (PathBuf, PathBuf) {
        let out =
            signpost_testkit::tools::command(signpost_testkit::tools::Tool::Openssl, "openssl")
                .args([
                    "genpkey",
                    "-algorithm",
                    "RSA",
                    "-pkeyopt",
                    "rsa_keygen_bits:2048",
                ])
                .output()
                .expect("openssl genpkey");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let pem = String::from_utf8(out.stdout).expect("PEM");
        let key = KeyPair::from_pem_and_sign_algo(&pem, &rcgen::PKCS_RSA_SHA256).expect("RSA key");
        self.issue_with(dir, stem, names, -1, to_days, key)
    }

    fn issue_with(
        &self,
        dir: &Path,
        stem: &str,
        names: &[&str],
        from_days: i64,
        to_days: i64,
        key: KeyPair,
    ) -> (PathBuf, PathBuf) {
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .expect("params");
        params
            .distinguished_name
            .push(DnType::CommonName, names.first().copied().unwrap_or(stem));
        let now = OffsetDateTime::now_utc();
        params.not_before = now + Duration::days(from_days);
        params.not_after = now + Duration::days(to_days);
        let issuer = Issuer::from_params(&self.params, &self.key);
        let leaf = params.signed_by(&key, &issuer).expect("sign leaf");
        let chain = dir.join(format!("{stem}.pem"));
        let key_file = dir.join(format!("{stem}.key"));
        std::fs::write(&chain, format!("{}{}", leaf.pem(), self.pem)).expect("write chain");
        std::fs::write(&key_file, key.serialize_pem()).expect("write key");
        (chain, key_file)
    }
}
