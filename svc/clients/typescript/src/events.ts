// What the live view hands its user (change events, rejections, its end) and what the feed
// hands the view (snapshot and change frames, as the AsyncAPI document describes them).
import type { Configuration } from "./cache.js";

export type Json = unknown;
/** Throwing (or returning `false`) rejects the new value; the last good one stays. */
export type Validator = (name: string, value: Json) => unknown;

export type ChangeOp = "snapshot" | "created" | "updated" | "deleted" | "rolled_back" | "application_deleted";

export interface ChangeEvent {
  name: string;
  /** The value before, undefined when the configuration is new. */
  old: Json | undefined;
  /** The value now, undefined when it was deleted. */
  new: Json | undefined;
  revision: number;
  op: ChangeOp;
}

export interface Rejection {
  name: string;
  value: Json;
  revision: number;
  reason: string;
}

export interface AckResult {
  configuration_id: string;
  version: number;
  status: "applied" | "rejected";
  reason?: string;
}

/** The live view has ended (closed, or its application deleted). */
export class LiveClosed extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LiveClosed";
  }
}

export interface SnapshotFrame {
  type: "snapshot";
  application_id: string;
  revision: number;
  entry_id?: string | null;
  configurations: Configuration[];
  reset?: boolean;
}

export interface ChangeFrame {
  type: "change";
  application_id: string;
  revision: number;
  op: string;
  entry_id?: string | null;
  configuration?: Record<string, unknown> | null;
  application?: Record<string, unknown> | null;
  configurations?: Record<string, unknown>[] | null;
  deleted?: string[] | null;
}

/** Deep equality of JSON values (key order does not matter). */
export function same(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a), kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && same((a as Record<string, Json>)[k], (b as Record<string, Json>)[k]));
}
