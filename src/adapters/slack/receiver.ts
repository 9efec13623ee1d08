import type { IncomingMessage, ServerResponse } from 'node:http';
import type { App, Receiver, ReceiverEvent } from '@slack/bolt';
// Bolt's modules themselves, not its index, which would also load the unused Express receiver.
import * as http from '@slack/bolt/dist/receivers/HTTPModuleFunctions.js';
import { HTTPResponseAck } from '@slack/bolt/dist/receivers/HTTPResponseAck.js';
import type { Logger } from '../../logger.js';
import type { RequestContext } from '../http/server.js';
import { toBoltLogger } from './bolt-logger.js';
import { verifySlackSignature } from './signature.js';

export interface SignedRequestReceiverOptions {
  signingSecret: string;
  logger: Logger;
  bodyLimitBytes?: number;
  nowSeconds?: () => number;
}

/**
 * A Bolt receiver mounted on our own HTTP server at `/slack/events`: one port for everything,
 * and our own signature check (which closes Bolt's future-timestamp window).
 */
export class SignedRequestReceiver implements Receiver {
  private app: App | undefined;
  private readonly boltLogger;

  constructor(private readonly options: SignedRequestReceiverOptions) {
    this.boltLogger = toBoltLogger(options.logger);
  }

  init(app: App): void {
    this.app = app;
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    { log, correlationId }: RequestContext,
  ): Promise<void> {
    let buffered: Awaited<ReturnType<typeof http.parseAndVerifyHTTPRequest>>;
    try {
      buffered = await http.parseAndVerifyHTTPRequest(
        { enabled: false, signingSecret: '', bodyLimit: this.options.bodyLimitBytes ?? 1_000_000 },
        req,
      );
    } catch (error) {
      const tooLarge =
        http.isRawBodyError(error) && (error.type === 'entity.too.large' || error.statusCode === 413);
      http.buildNoBodyResponse(res, tooLarge ? 413 : 400);
      return;
    }
    const rawBody = buffered.rawBody.toString('utf8');
    const signature = header(req, 'x-slack-signature');
    const check = verifySlackSignature({
      signingSecret: this.options.signingSecret,
      timestampHeader: header(req, 'x-slack-request-timestamp'),
      signatureHeader: signature,
      rawBody,
      nowSeconds: this.options.nowSeconds?.() ?? Math.floor(Date.now() / 1000),
    });
    if (!check.ok) {
      log.warn({ why: check.why }, 'refused an unverified Slack request');
      http.buildNoBodyResponse(res, 401);
      return;
    }
    let body: Record<string, unknown>;
    try {
      body = http.parseHTTPRequestBody(buffered);
    } catch {
      http.buildNoBodyResponse(res, 400);
      return;
    }
    if (body.ssl_check === '1') return http.buildSSLCheckResponse(res);
    if (body.type === 'url_verification') return http.buildUrlVerificationResponse(res, body);
    const ack = new HTTPResponseAck({
      logger: this.boltLogger,
      processBeforeResponse: false,
      httpRequest: buffered,
      httpRequestBody: body,
      httpResponse: res,
    });
    const event: ReceiverEvent = {
      body,
      ack: ack.bind(),
      retryNum: http.extractRetryNumFromHTTPRequest(req),
      retryReason: http.extractRetryReasonFromHTTPRequest(req),
      // The signature identifies this exact request: the router's replay check keys on it.
      customProperties: { correlationId, requestSignature: signature },
    };
    try {
      await this.app?.processEvent(event);
    } catch (error) {
      log.error({ err: error }, 'Slack event handling failed');
      if (!res.headersSent) http.buildNoBodyResponse(res, 500);
    }
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
