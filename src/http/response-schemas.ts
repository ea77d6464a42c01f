/**
 * Response schemas of the hot client-API routes (issue 12 item 5, "fast reads"): fastify compiles
 * them with fast-json-stringify, which writes a declared object without walking it generically as
 * `JSON.stringify` does. The bodies are unchanged, byte for byte (docs/api.md):
 *
 * - every property is declared in the order the services build it (entry-codec.ts `viewOf`,
 *   entries-service.ts `list`), and none is `required`, so a property that is absent is left out
 *   exactly as `JSON.stringify` leaves out `undefined`;
 * - fast-json-stringify drops undeclared properties: the compile-time checks below fail the build
 *   when a property is added to `EntryView`, `FieldView` or `EntrySummary` without being added
 *   here;
 * - `GET /api/status` declares only its leading properties and lets the rest through
 *   (`additionalProperties: true`, written with `JSON.stringify` in their own order), since
 *   editions add fields to it (`StatusBody` is open).
 *
 * Only 2xx answers use these schemas; errors keep the error handler's serialisation.
 */
import type { EntrySummary, EntryView, FieldView } from '../vault/entries-service.js';

type KeysOf<T> = T extends unknown ? keyof T : never;
/** Compile-time: `Declared` lists every key of `T` (a union's keys included). */
type Covers<T, Declared extends PropertyKey> = Exclude<KeysOf<T>, Declared> extends never ? true : { missing: Exclude<KeysOf<T>, Declared> };

const str = { type: 'string' } as const;
const nullableStr = { type: ['string', 'null'] } as const;
const num = { type: 'number' } as const;

/** JSON schema of a field as returned (`FieldView`): the value, or `redacted: true`. */
export const FIELD_VIEW_SCHEMA = {
  type: 'object',
  properties: { label: str, kind: str, tier: str, value: str, redacted: { type: 'boolean' } },
} as const;

/** JSON schema of an entry as returned (`EntryView`; docs/api.md). */
export const ENTRY_VIEW_SCHEMA = {
  type: 'object',
  properties: {
    id: str, type: str, parent: nullableStr, title: str, tags: { type: 'array', items: str }, version: num, created_at: str, updated_at: str,
    fields: { type: 'array', items: FIELD_VIEW_SCHEMA },
  },
} as const;

/** JSON schema of `GET /api/entries`: `{ entries: EntrySummary[] }`. */
export const ENTRY_LIST_SCHEMA = {
  type: 'object',
  properties: {
    entries: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: str, type: str, parent: nullableStr, title: str, tags: { type: 'array', items: str }, version: num, updated_at: str,
          fields: { type: 'array', items: { type: 'object', properties: { label: str, kind: str, tier: str } } },
        },
      },
    },
  },
} as const;

/** JSON schema of `GET /api/status` (`StatusBody`): the leading properties, then the rest as they are. */
export const STATUS_SCHEMA = {
  type: 'object',
  properties: { edition: str, role: str, pop_id: nullableStr, region: nullableStr, epoch: num },
  additionalProperties: true,
} as const;

// Compile-time: each schema declares every property of the type it serialises.
const fieldCovered: Covers<FieldView, keyof typeof FIELD_VIEW_SCHEMA.properties> = true;
const entryCovered: Covers<EntryView, keyof typeof ENTRY_VIEW_SCHEMA.properties> = true;
const summaryCovered: Covers<EntrySummary, keyof typeof ENTRY_LIST_SCHEMA.properties.entries.items.properties> = true;
void [fieldCovered, entryCovered, summaryCovered];

/** Route `schema` options: `{ response: { <2xx status>: schema } }`. */
export const ENTRY_CREATED_RESPONSE = { response: { 201: ENTRY_VIEW_SCHEMA } } as const;
/** `GET`/`PUT /api/entries/{id}`. */
export const ENTRY_OK_RESPONSE = { response: { 200: ENTRY_VIEW_SCHEMA } } as const;
/** `GET /api/entries`. */
export const ENTRY_LIST_RESPONSE = { response: { 200: ENTRY_LIST_SCHEMA } } as const;
/** `GET /api/status`. */
export const STATUS_RESPONSE = { response: { 200: STATUS_SCHEMA } } as const;
