/**
 * Branded id types (STYLE.md: typed ids so that ids cannot be swapped by accident).
 *
 * Vault, entry, agent and token ids are 16 random bytes rendered as 22 base64url characters with
 * a short prefix; POP ids follow DESIGN.md §4.2 (`[a-z0-9-]`, 1..63).
 */
import { randomBytes } from 'node:crypto';

declare const brand: unique symbol;
/** A string tagged with a nominal brand. */
export type Brand<T, B extends string> = T & { readonly [brand]: B };

/** Vault id, e.g. `v_Xy…` (24 characters). */
export type VaultId = Brand<string, 'VaultId'>;
/** Entry id, e.g. `e_Xy…`. */
export type EntryId = Brand<string, 'EntryId'>;
/** Agent id, e.g. `a_Xy…`. */
export type AgentId = Brand<string, 'AgentId'>;
/** Token id (owner or agent token), e.g. `t_Xy…`. */
export type TokenId = Brand<string, 'TokenId'>;
/** POP id from replication.yaml, e.g. `calgary-01`. */
export type PopId = Brand<string, 'PopId'>;

const ID_BODY = /^[A-Za-z0-9_-]{22}$/;

function newId(prefix: string): string {
  return `${prefix}_${randomBytes(16).toString('base64url')}`;
}

/** Fresh random vault id. */
export const newVaultId = (): VaultId => newId('v') as VaultId;
/** Fresh random entry id. */
export const newEntryId = (): EntryId => newId('e') as EntryId;
/** Fresh random agent id. */
export const newAgentId = (): AgentId => newId('a') as AgentId;
/** Fresh random token id. */
export const newTokenId = (): TokenId => newId('t') as TokenId;

function isId(prefix: string, s: unknown): boolean {
  return typeof s === 'string' && s.startsWith(`${prefix}_`) && ID_BODY.test(s.slice(2));
}

/** True when `s` has the shape of a vault id (safe to use in a file name). */
export const isVaultId = (s: unknown): s is VaultId => isId('v', s);
/** True when `s` has the shape of an entry id. */
export const isEntryId = (s: unknown): s is EntryId => isId('e', s);
/** True when `s` has the shape of an agent id. */
export const isAgentId = (s: unknown): s is AgentId => isId('a', s);
/** True when `s` has the shape of a token id. */
export const isTokenId = (s: unknown): s is TokenId => isId('t', s);

/** POP id rule from DESIGN.md §4.2: `[a-z0-9-]`, 1..63 characters. */
export const POP_ID_PATTERN = /^[a-z0-9-]{1,63}$/;
/** True when `s` is a valid POP id. */
export const isPopId = (s: unknown): s is PopId => typeof s === 'string' && POP_ID_PATTERN.test(s);
