/** Where a runbook's status-update step sends its words (the `status-update` webhooks). */
export interface StatusPage {
  /**
   * Queues `text` for every webhook that takes `status-update` events; resolves once the deliveries
   * are recorded durably (not once they are sent), with how many webhooks will get it.
   */
  statusUpdate(text: string, by: string): Promise<number>;
}
