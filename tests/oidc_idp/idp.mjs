// A real OpenID provider for the web UI's sign-in tests (tests/test_web_ui_oidc.py): panva's
// oidc-provider on loopback http, configured as an organisation would configure its IdP for semcat:
// a public client (the UI) using authorization code + PKCE, JWT access tokens for semcat's audience
// carrying the person's email and groups, CORS on the token endpoint for the UI's origin, and the
// library's development login form. A second, confidential client gets tokens for another API
// (client credentials), so the tests can show that semcat refuses a token meant for someone else.
//
// oidc-provider 8.x, not 9.x: 9 declares no engines field but warns at start that it needs Node.js
// 22 LTS or later, and the machines run Node.js 20 LTS, which 8.x supports.
//
// Configured by environment variables; prints one line `ready <issuer>` when it listens.
//   IDP_PORT            port on 127.0.0.1
//   IDP_REDIRECT_URI    the UI's redirect URI (http://127.0.0.1:PORT/ui/callback)
//   IDP_CLIENT_ID       the UI's client id
//   IDP_AUDIENCE        semcat's audience (SEMCAT_OIDC_AUDIENCE), the default resource
//   IDP_OTHER_AUDIENCE  the other API's audience; its client is `other-app` / `other-secret`
//   IDP_ACCOUNTS        JSON: {"<login>": {"email": "...", "groups": ["..."]}}
import { generateKeyPairSync, randomBytes } from "node:crypto";
import Provider from "oidc-provider";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const port = Number(env("IDP_PORT"));
const issuer = `http://127.0.0.1:${port}`;
const redirectUri = env("IDP_REDIRECT_URI");
const audience = env("IDP_AUDIENCE");
const otherAudience = env("IDP_OTHER_AUDIENCE");
const accounts = JSON.parse(env("IDP_ACCOUNTS"));

// a fresh signing key each run: nothing secret is kept in the repository
const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: "jwk" }), kid: "test-rs256", use: "sig", alg: "RS256" };

function claimsOf(id) {
  const account = accounts[id];
  return account && { sub: id, email: account.email, email_verified: true, groups: account.groups };
}

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: env("IDP_CLIENT_ID"),
      token_endpoint_auth_method: "none", // a browser app keeps no secret: PKCE instead
      redirect_uris: [redirectUri],
      post_logout_redirect_uris: [new URL("/ui/", redirectUri).href],
      grant_types: ["authorization_code"],
      response_types: ["code"],
    },
    {
      client_id: "other-app",
      client_secret: "other-secret",
      grant_types: ["client_credentials"],
      redirect_uris: [],
      response_types: [],
    },
  ],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString("hex")] },
  pkce: { required: () => true },
  async findAccount(_ctx, id) {
    const claims = claimsOf(id);
    return claims && { accountId: id, claims: async () => claims };
  },
  claims: { openid: ["sub"], email: ["email", "email_verified"], groups: ["groups"] },
  // the access token is what semcat reads: it names the person and their groups
  async extraTokenClaims(_ctx, token) {
    const claims = token.accountId && claimsOf(token.accountId);
    return claims ? { email: claims.email, groups: claims.groups } : undefined;
  },
  clientBasedCORS(_ctx, origin, client) {
    return client.redirectUris.some((uri) => new URL(uri).origin === origin);
  },
  ttl: { AccessToken: 600, ClientCredentials: 600, AuthorizationCode: 60, Grant: 3600, Interaction: 600, Session: 3600, IdToken: 600 },
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async (_ctx, client, oneOf) =>
        oneOf ?? (client.clientId === "other-app" ? otherAudience : audience),
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, indicator) => {
        if (indicator !== audience && indicator !== otherAudience) throw new Provider.errors.InvalidTarget();
        return {
          scope: "api",
          audience: indicator,
          accessTokenTTL: 600,
          accessTokenFormat: "jwt",
          jwt: { sign: { alg: "RS256" } },
        };
      },
    },
  },
});

provider.on("server_error", (_ctx, err) => console.error("server_error", err));
provider.listen(port, "127.0.0.1", () => console.log(`ready ${issuer}`));
