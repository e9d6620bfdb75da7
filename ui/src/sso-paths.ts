// The redirect URI path of single sign-on, apart from ./oidc.ts so the shell need not load it.
export const CALLBACK = "/ui/callback";
