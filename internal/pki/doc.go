// Package pki is obank's certificate machinery: it creates a root CA, issues
// the server TLS certificate, OB-style TPP transport certificates and signing
// certificates, encodes keys and certificates as PEM, computes RFC 8705
// certificate thumbprints and the RFC 4514 subject DNs used by DCR's
// tls_client_auth_subject_dn, and builds the FAPI server TLS configuration.
//
// Only the standard library is used for X.509 and TLS; jwx is used to express
// public keys as JWKs.
//
// Key types: certificates may be issued for RSA (2048 bits or more) or ECDSA
// (P-256 or P-384) keys. The server key must be RSA for FAPI's TLS 1.2 cipher
// suites (TLS_ECDHE_RSA_WITH_AES_*_GCM_*); the CA may be either.
package pki
