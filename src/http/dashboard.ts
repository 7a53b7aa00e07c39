/**
 * What the dashboard's page and the server agree on besides the routes: the header the
 * page sends with every change (the server's CSRF check for cookie sessions), and where
 * a login link carries its secret (the URL fragment, never sent to a server).
 */

/** Sent by the page with every change; a cookie-authenticated change without it is refused. */
export const CSRF_HEADER = 'x-berth-request';
/** The CSRF_HEADER's value. */
export const CSRF_VALUE = 'dashboard';
/** A login link is `<daemon url>/#login=<secret>`. */
export const LOGIN_FRAGMENT = 'login';
