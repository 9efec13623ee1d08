import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { COMMANDS } from '../../src/bot.js';

/** The parts of Slack's app manifest (v2) that these checks read. */
interface Manifest {
  _metadata?: { major_version?: number; minor_version?: number };
  display_information?: { name?: string };
  features?: {
    app_home?: { home_tab_enabled?: boolean; messages_tab_enabled?: boolean };
    bot_user?: { display_name?: string };
    slash_commands?: SlashCommand[];
  };
  oauth_config?: { scopes?: { bot?: string[]; user?: string[] } };
  settings?: {
    interactivity?: { is_enabled?: boolean; request_url?: string };
    event_subscriptions?: { request_url?: string; bot_events?: string[] };
    socket_mode_enabled?: boolean;
  };
}

interface SlashCommand {
  command: string;
  url?: string;
  description?: string;
  usage_hint?: string;
  should_escape?: boolean;
}

const manifest = parse(readFileSync(new URL('../../manifest.yml', import.meta.url), 'utf8')) as Manifest;
const slashCommands = manifest.features?.slash_commands ?? [];
const botScopes = manifest.oauth_config?.scopes?.bot ?? [];

/** `list [group] | get <flag> | enable|disable <flag>` → list, get, enable, disable. */
function subcommandsIn(usageHint: string): Set<string> {
  return new Set(usageHint.split('|').map((alternative) => alternative.trim().split(/\s+/)[0] ?? ''));
}

describe('manifest.yml', () => {
  it('is a v2 manifest for the Switchyard bot user', () => {
    expect(manifest._metadata).toEqual({ major_version: 2, minor_version: 1 });
    expect(manifest.display_information?.name).toBe('Switchyard');
    expect(manifest.features?.bot_user?.display_name).toBe('switchyard');
  });

  it('declares exactly the slash commands the code handles (COMMANDS in src/bot.ts)', () => {
    const inManifest = slashCommands.map((c) => c.command).sort();
    const inCode = COMMANDS.map((c) => c.name).sort();
    expect(new Set(inManifest).size, 'a slash command is declared twice').toBe(inManifest.length);
    expect(inManifest).toEqual(inCode);
  });

  it("gives every slash command a description and a usage hint naming the code's subcommands and help", () => {
    for (const command of slashCommands) {
      expect(command.description, command.command).toBeTruthy();
      expect(command.usage_hint, command.command).toMatch(/\bhelp\b/);
      expect(command.should_escape, command.command).toBe(false);
      const spec = COMMANDS.find((c) => c.name === command.command);
      if (!spec) continue; // reported by the test above
      const hinted = subcommandsIn(command.usage_hint ?? '');
      for (const sub of spec.subcommands) {
        expect(hinted.has(sub.name), `${command.command}: usage_hint does not mention ${sub.name}`).toBe(
          true,
        );
      }
    }
  });

  it('sends everything to the one request URL /slack/events', () => {
    const urls = [
      ...slashCommands.map((c) => c.url),
      manifest.settings?.interactivity?.request_url,
      manifest.settings?.event_subscriptions?.request_url,
    ];
    expect(urls).toHaveLength(slashCommands.length + 2);
    for (const url of urls) {
      expect(url).toMatch(/^https:\/\/[^/]+\/slack\/events$/);
    }
    expect(manifest.settings?.interactivity?.is_enabled).toBe(true);
  });

  it('asks for few bot scopes: no duplicates, nothing administrative, no channel management', () => {
    expect(botScopes).toContain('commands');
    expect(new Set(botScopes).size, 'a scope is listed twice').toBe(botScopes.length);
    const tooBroad = botScopes.filter(
      (scope) => scope.startsWith('admin') || scope === 'channels:manage' || scope === 'mpim:history',
    );
    expect(tooBroad).toEqual([]);
    // History only where the bot itself posts (the channel, public or private, and its DMs): the
    // exactly-once lookup after a crash reads its own recent posts there, nothing else.
    expect(botScopes.filter((scope) => scope.endsWith(':history')).sort()).toEqual([
      'channels:history',
      'groups:history',
      'im:history',
    ]);
    expect(manifest.oauth_config?.scopes?.user ?? []).toEqual([]);
  });

  it('may share files (the post-mortem draft) and nothing more of files', () => {
    expect(botScopes.filter((scope) => scope.startsWith('files:'))).toEqual(['files:write']);
  });

  it('uses HTTP request URLs, not Socket Mode', () => {
    expect(manifest.settings?.socket_mode_enabled).toBe(false);
  });

  it('subscribes to reactions (approvals by ✅) and can read them', () => {
    const events = manifest.settings?.event_subscriptions?.bot_events ?? [];
    expect(events).toContain('reaction_added');
    expect(botScopes).toContain('reactions:read');
  });

  it('enables the Home tab and subscribes to app_home_opened, which the bot publishes it on', () => {
    expect(manifest.features?.app_home?.home_tab_enabled).toBe(true);
    expect(manifest.settings?.event_subscriptions?.bot_events ?? []).toContain('app_home_opened');
  });
});
