// The admin API's public surface for the gateway: mount `createAdminApi(...)` for paths under ADMIN_PREFIX.
export { type AdminApi, type AdminApiOptions, createAdminApi } from "./api.ts";
export { ADMIN_PRINCIPAL, ADMINS_GROUP, authorize, principalOf } from "./auth.ts";
export { buildKubeconfig } from "./kubeconfig.ts";
export { ADMIN_PREFIX } from "./routes.ts";
