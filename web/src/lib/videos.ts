/**
 * How the channel page writes a video's length and date. Pure, so the page's unit spec pins them.
 */

/** A recording's length as players show it: `m:ss` under an hour, `h:mm:ss` from one. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const secs = String(s % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${secs}` : `${minutes}:${secs}`;
}

/** When a broadcast was, relative to now for the last week ("today", "yesterday", "3 days ago"), else its date. */
export function broadcastDate(iso: string | null, now: number, timeZone?: string): string {
  if (!iso) return '';
  const at = new Date(iso);
  const day = (t: number) => new Intl.DateTimeFormat('en-CA', { timeZone }).format(t);
  const days = Math.round((Date.parse(day(now)) - Date.parse(day(at.getTime()))) / 86_400_000);
  if (days === 0) return 'today';
  if (days === 1) return 'yesterday';
  if (days > 1 && days < 7) return `${days} days ago`;
  return new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeZone }).format(at);
}
