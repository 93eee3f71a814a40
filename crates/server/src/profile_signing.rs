//! Signing Apple configuration profiles: CMS SignedData with the profile attached (what
//! `openssl smime -sign -binary -nodetach -outform der` makes), so devices show "Verified".
//!
//! The ASN.1 is built by the RustCrypto `cms` crate; the private-key operation is done by `ring`,
//! whose RSA and ECDSA signing are constant-time.

use std::path::Path;

use anyhow::{Context, anyhow, bail};
use cms::builder::{SignedDataBuilder, SignerInfoBuilder, create_signing_time_attribute};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::signed_data::{EncapsulatedContentInfo, SignerIdentifier};
use const_oid::db::{rfc5911::ID_DATA, rfc5912};
use der::{Any, Decode, Encode, Tag};
use ring::rand::SystemRandom;
use ring::signature::{self as ring_signature, EcdsaKeyPair, KeyPair, RsaKeyPair};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use spki::{AlgorithmIdentifierOwned, DecodePublicKey, DynSignatureAlgorithmIdentifier};
use x509_cert::Certificate;

/// A signing certificate chain (leaf first) and its private key.
pub struct ProfileSigner {
    chain: Vec<Certificate>,
    key: SigningKey,
}

enum SigningKey {
    Rsa(RsaSigner),
    P256(P256Signer),
}

impl std::fmt::Debug for ProfileSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.key {
            SigningKey::Rsa(_) => "RSA",
            SigningKey::P256(_) => "ECDSA P-256",
        };
        f.debug_struct("ProfileSigner")
            .field("certificates", &self.chain.len())
            .field("key", &kind)
            .finish()
    }
}

impl ProfileSigner {
    /// Loads a PEM certificate chain (leaf first) and a PEM private key (PKCS#8, PKCS#1 RSA or
    /// SEC1 P-256), and checks that the key belongs to the leaf.
    pub fn from_pem_files(certificate: &Path, key: &Path) -> anyhow::Result<Self> {
        let chain_pem = std::fs::read(certificate)
            .with_context(|| format!("cannot read {}", certificate.display()))?;
        let key_pem =
            std::fs::read(key).with_context(|| format!("cannot read {}", key.display()))?;
        Self::from_pem(&chain_pem, &key_pem).with_context(|| {
            format!(
                "profile signing with {} and {}",
                certificate.display(),
                key.display()
            )
        })
    }

    pub fn from_pem(chain_pem: &[u8], key_pem: &[u8]) -> anyhow::Result<Self> {
        let chain = CertificateDer::pem_slice_iter(chain_pem)
            .map(|der| {
                let der = der.map_err(|e| anyhow!("bad certificate PEM: {e}"))?;
                Certificate::from_der(der.as_ref()).map_err(|e| anyhow!("bad certificate: {e}"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let leaf = chain
            .first()
            .context("the certificate file holds no certificate")?;
        let public_key = leaf
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| anyhow!("bad certificate key: {e}"))?;
        let key = PrivateKeyDer::from_pem_slice(key_pem)
            .map_err(|e| anyhow!("the key file holds no usable private key: {e}"))?;
        let key = match key {
            PrivateKeyDer::Pkcs8(der) => match RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()) {
                Ok(pair) => SigningKey::Rsa(RsaSigner::new(pair, &public_key)?),
                Err(_) => {
                    SigningKey::P256(P256Signer::from_pkcs8(der.secret_pkcs8_der(), &public_key)?)
                }
            },
            PrivateKeyDer::Pkcs1(der) => {
                let pair = RsaKeyPair::from_der(der.secret_pkcs1_der())
                    .map_err(|e| anyhow!("bad RSA key: {e}"))?;
                SigningKey::Rsa(RsaSigner::new(pair, &public_key)?)
            }
            PrivateKeyDer::Sec1(der) => {
                use p256::pkcs8::EncodePrivateKey;
                let secret = p256::SecretKey::from_sec1_der(der.secret_sec1_der())
                    .map_err(|_| anyhow!("only P-256 EC keys are supported"))?;
                let pkcs8 = secret
                    .to_pkcs8_der()
                    .map_err(|e| anyhow!("bad EC key: {e}"))?;
                SigningKey::P256(P256Signer::from_pkcs8(pkcs8.as_bytes(), &public_key)?)
            }
            _ => bail!("unsupported private key format"),
        };
        Ok(Self { chain, key })
    }

    /// The profile wrapped in CMS SignedData, DER-encoded.
    pub fn sign(&self, content: &[u8]) -> anyhow::Result<Vec<u8>> {
        match &self.key {
            SigningKey::Rsa(signer) => {
                sign_attached::<_, rsa::pkcs1v15::Signature>(signer, &self.chain, content)
            }
            SigningKey::P256(signer) => {
                sign_attached::<_, p256::ecdsa::DerSignature>(signer, &self.chain, content)
            }
        }
    }
}

fn builder_error(e: cms::builder::Error) -> anyhow::Error {
    anyhow!("CMS: {e}")
}

fn sign_attached<S, Sig>(
    signer: &S,
    chain: &[Certificate],
    content: &[u8],
) -> anyhow::Result<Vec<u8>>
where
    S: signature::Keypair + DynSignatureAlgorithmIdentifier + signature::Signer<Sig>,
    S::VerifyingKey: spki::EncodePublicKey,
    Sig: spki::SignatureBitStringEncoding,
{
    let leaf = chain.first().context("no signing certificate")?;
    let encapsulated = EncapsulatedContentInfo {
        econtent_type: ID_DATA,
        econtent: Some(Any::new(Tag::OctetString, content).map_err(|e| anyhow!("{e}"))?),
    };
    let digest = AlgorithmIdentifierOwned {
        oid: rfc5912::ID_SHA_256,
        parameters: None,
    };
    let signer_id = SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
        issuer: leaf.tbs_certificate.issuer.clone(),
        serial_number: leaf.tbs_certificate.serial_number.clone(),
    });
    let mut signer_info =
        SignerInfoBuilder::new(signer, signer_id, digest.clone(), &encapsulated, None)
            .map_err(builder_error)?;
    signer_info
        .add_signed_attribute(create_signing_time_attribute().map_err(builder_error)?)
        .map_err(builder_error)?;
    let mut signed = SignedDataBuilder::new(&encapsulated);
    signed.add_digest_algorithm(digest).map_err(builder_error)?;
    for certificate in chain {
        signed
            .add_certificate(CertificateChoices::Certificate(certificate.clone()))
            .map_err(builder_error)?;
    }
    signed
        .add_signer_info::<S, Sig>(signer_info)
        .map_err(builder_error)?;
    signed
        .build()
        .map_err(builder_error)?
        .to_der()
        .map_err(|e| anyhow!("{e}"))
}

/// RSA PKCS#1 v1.5 with SHA-256, signed by ring.
struct RsaSigner {
    pair: RsaKeyPair,
    verifying: rsa::pkcs1v15::VerifyingKey<sha2_cms::Sha256>,
    rng: SystemRandom,
}

impl RsaSigner {
    fn new(pair: RsaKeyPair, certificate_key: &[u8]) -> anyhow::Result<Self> {
        let public = rsa::RsaPublicKey::from_public_key_der(certificate_key)
            .map_err(|_| anyhow!("the private key is RSA but the certificate's key is not"))?;
        use rsa::pkcs1::EncodeRsaPublicKey;
        let certificate_pkcs1 = public
            .to_pkcs1_der()
            .map_err(|e| anyhow!("certificate key: {e}"))?;
        if certificate_pkcs1.as_bytes() != pair.public().as_ref() {
            bail!("the private key does not belong to the first certificate");
        }
        Ok(Self {
            pair,
            verifying: rsa::pkcs1v15::VerifyingKey::new(public),
            rng: SystemRandom::new(),
        })
    }
}

impl signature::Keypair for RsaSigner {
    type VerifyingKey = rsa::pkcs1v15::VerifyingKey<sha2_cms::Sha256>;
    fn verifying_key(&self) -> Self::VerifyingKey {
        self.verifying.clone()
    }
}

impl DynSignatureAlgorithmIdentifier for RsaSigner {
    fn signature_algorithm_identifier(&self) -> spki::Result<AlgorithmIdentifierOwned> {
        Ok(AlgorithmIdentifierOwned {
            oid: rfc5912::SHA_256_WITH_RSA_ENCRYPTION,
            parameters: Some(der::asn1::Null.into()),
        })
    }
}

impl signature::Signer<rsa::pkcs1v15::Signature> for RsaSigner {
    fn try_sign(&self, message: &[u8]) -> Result<rsa::pkcs1v15::Signature, signature::Error> {
        let mut out = vec![0u8; self.pair.public().modulus_len()];
        self.pair
            .sign(
                &ring_signature::RSA_PKCS1_SHA256,
                &self.rng,
                message,
                &mut out,
            )
            .map_err(|_| signature::Error::new())?;
        rsa::pkcs1v15::Signature::try_from(out.as_slice())
    }
}

/// ECDSA P-256 with SHA-256, signed by ring, DER-encoded signature.
struct P256Signer {
    pair: EcdsaKeyPair,
    verifying: p256::ecdsa::VerifyingKey,
    rng: SystemRandom,
}

impl P256Signer {
    fn from_pkcs8(pkcs8: &[u8], certificate_key: &[u8]) -> anyhow::Result<Self> {
        let rng = SystemRandom::new();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ring_signature::ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8, &rng)
                .map_err(|_| anyhow!("the private key is neither RSA nor ECDSA P-256"))?;
        let verifying = p256::ecdsa::VerifyingKey::from_public_key_der(certificate_key)
            .map_err(|_| anyhow!("the private key is P-256 but the certificate's key is not"))?;
        if verifying.to_encoded_point(false).as_bytes() != pair.public_key().as_ref() {
            bail!("the private key does not belong to the first certificate");
        }
        Ok(Self {
            pair,
            verifying,
            rng,
        })
    }
}

impl signature::Keypair for P256Signer {
    type VerifyingKey = p256::ecdsa::VerifyingKey;
    fn verifying_key(&self) -> Self::VerifyingKey {
        self.verifying
    }
}

impl DynSignatureAlgorithmIdentifier for P256Signer {
    fn signature_algorithm_identifier(&self) -> spki::Result<AlgorithmIdentifierOwned> {
        Ok(AlgorithmIdentifierOwned {
            oid: rfc5912::ECDSA_WITH_SHA_256,
            parameters: None,
        })
    }
}

impl signature::Signer<p256::ecdsa::DerSignature> for P256Signer {
    fn try_sign(&self, message: &[u8]) -> Result<p256::ecdsa::DerSignature, signature::Error> {
        let signature = self
            .pair
            .sign(&self.rng, message)
            .map_err(|_| signature::Error::new())?;
        p256::ecdsa::DerSignature::try_from(signature.as_ref())
    }
}
