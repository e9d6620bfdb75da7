// Single sign-on: OpenID Connect authorization code + PKCE with oidc-client-ts, loaded only when
// the server names an issuer. The tokens stay in this tab (session storage); the access token is
// what the API checks (issuer, audience, signature) and reads the person and their groups from.
import { UserManager, WebStorageStateStore } from "oidc-client-ts";
import { setBearer, UiConfig } from "./api";
import { CALLBACK } from "./sso-paths";

type Sso = NonNullable<UiConfig["oidc"]>;

let manager: UserManager | null = null;

function users(c: Sso): UserManager {
  manager ??= new UserManager({
    authority: c.issuer,
    client_id: c.clientId,
    scope: c.scope,
    response_type: "code", // PKCE is oidc-client-ts's default for the code flow
    redirect_uri: location.origin + CALLBACK,
    post_logout_redirect_uri: location.origin + "/ui/",
    userStore: new WebStorageStateStore({ store: sessionStorage }),
    stateStore: new WebStorageStateStore({ store: sessionStorage }),
    loadUserInfo: false,
    automaticSilentRenew: false, // silent renewal needs an iframe the page's CSP forbids
    monitorSession: false,
  });
  return manager;
}

/** The access token of this tab's session, after finishing a redirect back from the issuer;
 * null when nobody signed in here or the token expired. `onExpired` runs when it runs out. */
export async function restore(c: Sso, onExpired: () => void): Promise<{ token: string | null; to?: string }> {
  const um = users(c);
  let to: string | undefined;
  if (location.pathname === CALLBACK) {
    const user = await um.signinRedirectCallback();
    to = (user.state as { to?: string } | undefined)?.to ?? "/ui/search";
  }
  const user = await um.getUser();
  const token = user && !user.expired ? user.access_token : null;
  setBearer(token);
  um.events.addAccessTokenExpired(() => { setBearer(null); onExpired(); });
  return { token, to };
}

/** Leaves for the issuer's sign-in page; it comes back to /ui/callback, then to `to`. */
export async function signIn(c: Sso, to: string): Promise<void> {
  await users(c).signinRedirect({ state: { to } });
}

/** Forgets this tab's tokens: the API then answers 401 to the page. */
export async function signOut(c: Sso): Promise<void> {
  setBearer(null);
  await users(c).removeUser();
}
