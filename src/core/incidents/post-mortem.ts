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
}

export function draftPostMortem(
  events: readonly IncidentEvent[],
  window: TimeWindow,
  now: number,
): PostMortem {
  const timeline = buildTimeline(events, window);
  return { window, generatedAt: now, timeline, durations: incidentDurations(timeline) };
}
