import { parseAllDocuments } from 'yaml';
import { isRecord } from './json.js';
import type { Target } from './routes.js';
import { forbidden } from './status.js';

/** One rule of a Role (`rbac.authorization.k8s.io/v1` PolicyRule, resource rules only). */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** A Role bound to the user the emulator's token authenticates as. */
export interface RbacPolicy {
  /** The Role's namespace: the rules grant nothing elsewhere. */
  namespace: string;
  rules: PolicyRule[];
  /** The bound subject, as the API server names it (`system:serviceaccount:<ns>:<name>`). */
  user: string;
}

/**
 * The policy of a manifest like `deploy/kubernetes/base/rbac.yaml`: its Role, and the ServiceAccount its
 * RoleBinding binds that Role to. Throws when the manifest has no Role or no binding of it.
 */
export function rbacFromManifest(yamlText: string): RbacPolicy {
  const docs = parseAllDocuments(yamlText).map((doc) => doc.toJS() as unknown);
  const role = docs.find((doc) => isRecord(doc) && doc.kind === 'Role') as
    | { metadata: { name: string; namespace: string }; rules?: PolicyRule[] }
    | undefined;
  if (!role) throw new Error('RBAC manifest: no Role');
  const binding = docs.find(
    (doc) =>
      isRecord(doc) &&
      doc.kind === 'RoleBinding' &&
      isRecord(doc.roleRef) &&
      doc.roleRef.kind === 'Role' &&
      doc.roleRef.name === role.metadata.name,
  ) as { subjects?: Array<{ kind: string; name: string; namespace?: string }> } | undefined;
  const subject = binding?.subjects?.find((s) => s.kind === 'ServiceAccount');
  if (!subject)
    throw new Error(`RBAC manifest: no RoleBinding of Role ${role.metadata.name} to a ServiceAccount`);
  return {
    namespace: role.metadata.namespace,
    rules: role.rules ?? [],
    user: `system:serviceaccount:${subject.namespace ?? role.metadata.namespace}:${subject.name}`,
  };
}

/**
 * The RBAC authorizer's answer for one resource request: allowed when a rule of the Role, in its
 * namespace, names the API group, the resource (`pods/log` for a subresource), the verb and, when the
 * rule lists names, the object's name. Throws the API server's 403 otherwise.
 */
export function authorize(
  policy: RbacPolicy,
  verb: string,
  target: Extract<Target, { type: 'resource' }>,
  resource: string,
): void {
  const group = target.resource.group;
  const allowed =
    target.namespace === policy.namespace &&
    policy.rules.some(
      (rule) =>
        matches(rule.apiGroups, group) &&
        matches(rule.resources, resource) &&
        matches(rule.verbs, verb) &&
        (!rule.resourceNames?.length ||
          (target.name !== undefined && rule.resourceNames.includes(target.name))),
    );
  if (!allowed) {
    throw forbidden(target.resource, resource, verb, policy.user, target.namespace, target.name);
  }
}

function matches(granted: readonly string[], value: string): boolean {
  return granted.includes('*') || granted.includes(value);
}
