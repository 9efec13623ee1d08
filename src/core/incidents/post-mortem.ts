import {
  buildTimeline,
  type IncidentDurations,
  type IncidentEvent,
  incidentDurations,
  type TimeWindow,
} from './timeline.js';

/** What a post-mortem draft says, as data: the messages layer renders it to Markdown. */
export interface PostMortem {
  window: TimeWindow;
  /** Epoch ms, on the bot's clock. */
  generatedAt: number;
  timeline: IncidentEvent[];
  durations: IncidentDurations;
  /** Events of the window left out past `MAX_TIMELINE_EVENTS` (the latest ones). */
  omitted?: number;
}

/** The most events one draft lists: a post-mortem is read by people, and the file stays small. */
export const MAX_TIMELINE_EVENTS = 2_000;

export function draftPostMortem(
  events: readonly IncidentEvent[],
  window: TimeWindow,
  now: number,
): PostMortem {
  const all = buildTimeline(events, window);
  // Durations are counted on the whole window, whatever the draft lists.
  const durations = incidentDurations(all);
  if (all.length <= MAX_TIMELINE_EVENTS) return { window, generatedAt: now, timeline: all, durations };
  return {
    window,
    generatedAt: now,
    timeline: all.slice(0, MAX_TIMELINE_EVENTS),
    durations,
    omitted: all.length - MAX_TIMELINE_EVENTS,
  };
}
