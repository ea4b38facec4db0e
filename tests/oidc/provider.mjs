// A real OpenID Connect provider (npm's oidc-provider) on a free loopback port, for the admin
// pages' single sign-on tests (tests/Scheduler.IntegrationTests/Access/Sso/OidcSignInTests.cs).
//
// Protocol with the test, over stdin/stdout:
//   1. it listens on 127.0.0.1:0 and prints "issuer http://127.0.0.1:<port>";
//   2. it reads one line from stdin: the client's redirect URI (the scheduler's callback, whose
//      port is known only once the scheduler started with this issuer as its authority);
//   3. it creates the provider with one static confidential client and prints "ready".
// Accounts come from the JSON file named by OIDC_ACCOUNTS ({"<login>": {"groups": [...]}}),
// read again on every sign-in, so a test changes a user's groups between two sign-ins by
// rewriting the file. The built-in development login form accepts any password (the password
// check is the provider's business, not the scheduler's).
import http from 'node:http';
import fs from 'node:fs';
import readline from 'node:readline';
import Provider from 'oidc-provider';

const clientId = process.env.OIDC_CLIENT_ID ?? 'scheduler';
const clientSecret = process.env.OIDC_CLIENT_SECRET ?? 'scheduler-test-secret';
const accountsFile = process.env.OIDC_ACCOUNTS;
if (!accountsFile) {
  console.error('OIDC_ACCOUNTS (a JSON file of accounts) is required');
  process.exit(2);
}

const accounts = () => JSON.parse(fs.readFileSync(accountsFile, 'utf8'));

let handler = (req, res) => { res.statusCode = 503; res.end('not ready'); };
const server = http.createServer((req, res) => handler(req, res));

server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  console.log(`issuer ${issuer}`);
  const lines = readline.createInterface({ input: process.stdin });
  lines.once('line', (redirectUri) => {
    const provider = new Provider(issuer, {
      clients: [{
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [redirectUri.trim()],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      }],
      pkce: { required: () => true },
      claims: { openid: ['sub'], profile: ['preferred_username', 'name'], groups: ['groups'] },
      scopes: ['openid', 'profile', 'groups'],
      cookies: { keys: ['scheduler-test-provider-cookie-key'] },
      async findAccount(ctx, id) {
        const account = accounts()[id];
        if (!account) return undefined;
        return {
          accountId: id,
          async claims() {
            // Read again: the groups of the moment the scheduler asks (userinfo).
            const now = accounts()[id] ?? { groups: [] };
            return { sub: id, preferred_username: id, name: now.name ?? id, groups: now.groups ?? [] };
          },
        };
      },
    });
    provider.on('server_error', (ctx, error) => console.error('server_error', error));
    handler = provider.callback();
    console.log('ready');
  });
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
