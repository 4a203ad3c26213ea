/** Types for tools/simulate-attack.mjs. */
export function simulateAttack(options: { gateway: string; accounts?: number }): Promise<Map<string, number>>;
