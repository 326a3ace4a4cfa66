// Verifies a JWT-SVID the way an OIDC relying party does, with no knowledge of Bourne: discover the issuer with
// openid-client, then verify the token with jose against the discovered jwks_uri.
//
// Usage: node verify.mjs ISSUER AUDIENCE < token
// The token comes on standard input, never on the command line: it is a bearer token, and argv is visible to others.
// Prints one JSON line {"sub", "iss", "alg", "kid", "metadata"} and exits 0, or prints the error and exits 1.
// The issuer's CA comes from NODE_EXTRA_CA_CERTS.
import * as client from 'openid-client';
import * as jose from 'jose';

const [issuer, audience] = process.argv.slice(2);
if (!issuer || !audience) {
  console.error('usage: node verify.mjs ISSUER AUDIENCE < token');
  process.exit(2);
}

let token = '';
for await (const chunk of process.stdin) {
  token += chunk;
}
token = token.trim();

try {
  // Discovery checks that the document's issuer is exactly the one asked for.
  const config = await client.discovery(new URL(issuer), 'bourne-oidc-verify');
  const metadata = config.serverMetadata();
  const jwks = jose.createRemoteJWKSet(new URL(metadata.jwks_uri));
  const { payload, protectedHeader } = await jose.jwtVerify(token, jwks, {
    issuer: metadata.issuer,
    audience,
    algorithms: metadata.id_token_signing_alg_values_supported,
  });
  console.log(JSON.stringify({
    sub: payload.sub,
    iss: payload.iss,
    alg: protectedHeader.alg,
    kid: protectedHeader.kid,
    metadata: {
      issuer: metadata.issuer,
      jwks_uri: metadata.jwks_uri,
      subject_types_supported: metadata.subject_types_supported,
      response_types_supported: metadata.response_types_supported,
      id_token_signing_alg_values_supported: metadata.id_token_signing_alg_values_supported,
    },
  }));
} catch (error) {
  console.error(`verification failed: ${error.code ?? error.name}: ${error.message}`);
  process.exit(1);
}
