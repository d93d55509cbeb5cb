export { Client } from "./client.js";
export { ConfigsvcError, etagOf, paginate } from "./http.js";
export type { CallOptions, ClientOptions, Page } from "./http.js";
export { CLOSE_REVOKED, SDK } from "./feed.js";
export type { LiveOptions } from "./feed.js";
export { LiveClosed, LiveView } from "./view.js";
export type { ChangeEvent, ChangeOp, Json, Rejection, Validator } from "./view.js";
export type { CacheState } from "./cache.js";
export * from "./generated.js";
