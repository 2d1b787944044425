// provider.js: a loopback OpenID Provider for `make run` and the tests
// (tools/stack starts it as the "idp" component; SP::Stack with oidc => 1).
//
// oidc-provider 8 (pinned in package-lock.json; `npm ci --prefix idp`),
// in-memory store, one static client, PKCE S256 required, the library's
// development login and consent pages. Listens on 127.0.0.1 only.
//
//   OIDC_CLIENT_SECRET=s3cret OIDC_REDIRECT_URIS=http://127.0.0.1:8080/cb \
//     node idp/provider.js [PORT]
//
// PORT (argument, else $OIDC_PORT, else 0 = any free port). The issuer is
// http://127.0.0.1:PORT; once listening it prints "READY <issuer>" on
// stdout. Accounts (any password): alice [deployers], root [deployers,
// sre-admins], eve [others]. Dev login form: POST prompt=login,
// login=<user>, password=<anything>; then consent: POST prompt=consent.
import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

const ACCOUNTS = {
  alice: ['deployers'],
  root: ['deployers', 'sre-admins'],
  eve: ['others'],
};

const port = Number(process.argv[2] ?? process.env.OIDC_PORT ?? 0);
const secret = process.env.OIDC_CLIENT_SECRET;
const redirectUris = (process.env.OIDC_REDIRECT_URIS ?? '')
  .split(/[\s,]+/).filter(Boolean);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error('provider.js: bad port');
  process.exit(2);
}
if (!secret || redirectUris.length === 0) {
  console.error('provider.js: set OIDC_CLIENT_SECRET and OIDC_REDIRECT_URIS');
  process.exit(2);
}

// Fresh signing keys per run: an RSA key (RS256, the client's default) and
// a P-256 key, so the JWKS has two key types like real providers.
function signingKey(type, options, kid, alg) {
  const { privateKey } = generateKeyPairSync(type, options);
  return { ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
}
const jwks = {
  keys: [
    signingKey('rsa', { modulusLength: 2048 }, 'test-rsa', 'RS256'),
    signingKey('ec', { namedCurve: 'P-256' }, 'test-ec', 'ES256'),
  ],
};

const server = createServer();
server.listen(port, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: 'spiderpig',
      client_secret: secret,
      redirect_uris: redirectUris,
      token_endpoint_auth_method: 'client_secret_basic',
      response_types: ['code'],
      grant_types: ['authorization_code'],
    }],
    jwks,
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    pkce: { required: () => true, methods: ['S256'] },
    scopes: ['openid'],
    claims: { openid: ['sub', 'preferred_username', 'groups'] },
    // Put the claims in the ID token even though an access token is issued.
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: true } },
    async findAccount(ctx, id) {
      if (!Object.hasOwn(ACCOUNTS, id)) return undefined;
      return {
        accountId: id,
        async claims() {
          return { sub: id, preferred_username: id, groups: ACCOUNTS[id] };
        },
      };
    },
  });
  provider.on('server_error', (ctx, err) => console.error('server_error', err));
  server.on('request', provider.callback());
  process.stdout.write(`READY ${issuer}\n`);
});

// State is in memory only, so stop at once: server.close() would wait for
// the test client's keep-alive connections. A lifetime cap (seconds,
// default 300) keeps an orphaned provider from outliving its test run.
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.on(sig, () => process.exit(0));
}
const lifetime = Number(process.env.OIDC_MAX_LIFETIME ?? 300);
if (lifetime > 0) setTimeout(() => process.exit(0), lifetime * 1000).unref();
