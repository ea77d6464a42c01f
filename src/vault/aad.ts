/**
 * Additional authenticated data builders (DESIGN.md §2: "AAD binds every ciphertext to its vault,
 * entry, field and revision"). One place, so writer and reader can never disagree.
 */

/** AAD for an entry title at revision `seq`. */
export function titleAad(vaultId: string, entryId: string, seq: number): string {
  return `clavitor/v1|title|${vaultId}|${entryId}|${seq}`;
}

/** AAD for field number `index` (0-based) of an entry at revision `seq`. */
export function fieldAad(vaultId: string, entryId: string, index: number, seq: number): string {
  return `clavitor/v1|field|${vaultId}|${entryId}|${index}|${seq}`;
}

/** AAD for key material wrapped for token `tokenId` of vault `vaultId`. */
export function wrapAad(vaultId: string, tokenId: string): string {
  return `clavitor/v1|wrap|${vaultId}|${tokenId}`;
}

/** AAD for an agent's name. */
export function agentNameAad(vaultId: string, agentId: string): string {
  return `clavitor/v1|agent-name|${vaultId}|${agentId}`;
}

/**
 * AAD of an entry key (issue 14 item 3): the key of revision `seq` of entry `entryId` sealed for
 * `holder`, which is `owner` (under the owner key) or an agent id (under that agent's own key).
 */
export function entryKeyAad(vaultId: string, entryId: string, seq: number, holder: string): string {
  return `clavitor/v1|entry-key|${vaultId}|${entryId}|${seq}|${holder}`;
}

/** AAD of an agent's own key sealed under the owner key (issue 14 item 3). */
export function agentKeyAad(vaultId: string, agentId: string): string {
  return `clavitor/v1|agent-key|${vaultId}|${agentId}`;
}
