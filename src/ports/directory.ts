/** Who belongs to a Slack user group (resolved through the chat platform). */
export interface Directory {
  usergroupMembers(groupId: string): Promise<string[]>;
}
