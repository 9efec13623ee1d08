import { parseWindow } from '../../core/incidents/timeline.js';
import { renderPostMortem } from '../../messages/incident.js';
import type { IncidentService } from '../../services/incident-service.js';
import { bearerMatches, type Route, sendJson } from './server.js';

/**
 * `GET /api/v1/incidents/timeline?since=&until=`: the same Markdown post-mortem draft `/incident
 * timeline` shares in Slack, for a wiki or a ticket. It reads the incident's whole story (who did
 * what), so it needs the bearer `FLAG_API_TOKEN`, and is refused outright without one configured.
 */
export function incidentApiRoutes(incidents: IncidentService, apiToken: string | undefined): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/v1/incidents/timeline',
      handler: async (req, res) => {
        if (!apiToken) {
          return sendJson(res, 401, {
            error: 'the incident API is disabled: set FLAG_API_TOKEN to enable it',
          });
        }
        if (!bearerMatches(req, apiToken)) {
          return sendJson(
            res,
            401,
            { error: 'missing or wrong bearer token (Authorization: Bearer <FLAG_API_TOKEN>)' },
            { 'www-authenticate': 'Bearer' },
          );
        }
        const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
        const value = (name: string) => {
          const given = query.get(name);
          return given === null || given.trim() === '' ? undefined : given;
        };
        const parsed = parseWindow(value('since'), value('until'), incidents.now());
        if (!parsed.ok) return sendJson(res, 400, { error: parsed.error.replace(/`/g, '') });
        const markdown = renderPostMortem(await incidents.draft(parsed.window));
        res.writeHead(200, { 'content-type': 'text/markdown; charset=utf-8' });
        res.end(markdown);
      },
    },
  ];
}
