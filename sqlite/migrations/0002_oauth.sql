-- The authorization server's records (oauth.Store), SQLite dialect. Keep in
-- step with postgres/migrations/0002_oauth.sql. Conventions as in 0001:
-- times are INTEGER unix microseconds (UTC), lists and nested values JSON
-- TEXT (NULL for a nil Go slice), raw bytes BLOB (NULL when empty).

-- Registered TPP applications. A deleted client keeps its row (deleted_at
-- set) so that its id is never handed out again and audits can resolve it.
CREATE TABLE oauth_clients (
	id                              TEXT PRIMARY KEY,
	software_id                     TEXT NOT NULL,
	org_id                          TEXT NOT NULL,
	org_name                        TEXT NOT NULL,
	name                            TEXT NOT NULL,
	roles                           TEXT,
	redirect_uris                   TEXT,
	scopes                          TEXT,
	grant_types                     TEXT,
	response_types                  TEXT,
	application_type                TEXT NOT NULL,
	token_endpoint_auth_method      TEXT NOT NULL,
	token_endpoint_auth_signing_alg TEXT NOT NULL,
	tls_client_auth_subject_dn      TEXT NOT NULL,
	jwks                            BLOB,
	jwks_uri                        TEXT NOT NULL,
	id_token_signed_response_alg    TEXT NOT NULL,
	id_token_encrypted_response_alg TEXT NOT NULL,
	id_token_encrypted_response_enc TEXT NOT NULL,
	request_object_signing_alg      TEXT NOT NULL,
	logo_uri                        TEXT NOT NULL,
	client_uri                      TEXT NOT NULL,
	policy_uri                      TEXT NOT NULL,
	tos_uri                         TEXT NOT NULL,
	software_statement              TEXT NOT NULL,
	metadata                        BLOB,
	created_at                      INTEGER NOT NULL,
	updated_at                      INTEGER NOT NULL,
	deleted_at                      INTEGER
);

-- JWT ids seen, per scope, until they expire. expires_at is indexed so the
-- opportunistic purge finds expired rows without a scan.
CREATE TABLE oauth_jtis (
	scope      TEXT NOT NULL,
	jti        TEXT NOT NULL,
	expires_at INTEGER NOT NULL,
	PRIMARY KEY (scope, jti)
);
CREATE INDEX oauth_jtis_expires ON oauth_jtis (expires_at);

-- Authorization requests waiting for the customer's journey. request is the
-- validated oauth.AuthRequest as JSON.
CREATE TABLE oauth_auth_sessions (
	id           TEXT PRIMARY KEY,
	client_id    TEXT NOT NULL,
	request      TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	completed_at INTEGER
);

-- Authorization codes, keyed by the hash of the code.
CREATE TABLE oauth_codes (
	hash        TEXT PRIMARY KEY,
	session_id  TEXT NOT NULL,
	client_id   TEXT NOT NULL,
	request     TEXT NOT NULL,
	customer_id TEXT NOT NULL,
	acr         TEXT NOT NULL,
	auth_time   INTEGER NOT NULL,
	issued_at   INTEGER NOT NULL,
	expires_at  INTEGER NOT NULL,
	family_id   TEXT NOT NULL,
	redeemed_at INTEGER
);

-- PAR requests (RFC 9126), used once through their request_uri.
CREATE TABLE oauth_pushed_requests (
	id         TEXT PRIMARY KEY,
	client_id  TEXT NOT NULL,
	request    TEXT NOT NULL,
	expires_at INTEGER NOT NULL,
	used_at    INTEGER
);

-- Refresh tokens, keyed by the hash of the token. A rotated token keeps its
-- row (rotated_at, replaced_by) so that its replay is recognised and revokes
-- the family. grant_id has no foreign key: a refresh token may be bound to
-- a consent that is not an access grant.
CREATE TABLE oauth_refresh_tokens (
	hash            TEXT PRIMARY KEY,
	family_id       TEXT NOT NULL,
	client_id       TEXT NOT NULL,
	grant_id        TEXT NOT NULL,
	customer_id     TEXT NOT NULL,
	scopes          TEXT,
	cert_thumbprint TEXT NOT NULL,
	issued_at       INTEGER NOT NULL,
	expires_at      INTEGER,
	rotated_at      INTEGER,
	replaced_by     TEXT,
	revoked_at      INTEGER
);
CREATE INDEX oauth_refresh_tokens_family ON oauth_refresh_tokens (family_id);
CREATE INDEX oauth_refresh_tokens_client ON oauth_refresh_tokens (client_id);
CREATE INDEX oauth_refresh_tokens_grant ON oauth_refresh_tokens (grant_id);

-- The server's signing keys. sealed_key is the keystore-sealed PKCS#8 (never
-- the clear key); cert_chain a JSON array of base64 DER certificates.
CREATE TABLE oauth_signing_keys (
	kid           TEXT PRIMARY KEY,
	alg           TEXT NOT NULL,
	sealed_key    BLOB NOT NULL,
	cert_chain    TEXT,
	created_at    INTEGER NOT NULL,
	retired_at    INTEGER,
	publish_until INTEGER
);

-- Access tokens of one authorization code and its refresh chain share a
-- family (NULL for client-credentials tokens), so a replay revokes them
-- together; deleting a client revokes its tokens by client_id.
ALTER TABLE access_tokens ADD COLUMN family_id TEXT;
CREATE INDEX access_tokens_family ON access_tokens (family_id);
CREATE INDEX access_tokens_client ON access_tokens (client_id);
