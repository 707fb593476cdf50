/**
 * A new topic takes records once every partition has a leader; the broker says so a moment after
 * creating it, and under load may not know the topic at all for a moment first. `allLed` asks the
 * library; a failed question counts as not yet.
 */
export async function waitForLeaders(topics: string[], allLed: () => Promise<boolean>): Promise<void> {
  const until = Date.now() + 30_000;
  while (!(await allLed().catch(() => false))) {
    if (Date.now() > until) throw new Error(`no leaders for ${topics.join(', ')} within 30 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
