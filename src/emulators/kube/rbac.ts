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

interface RoleDoc {
  metadata: { name: string; namespace: string };
  rules?: PolicyRule[];
}

interface BindingDoc {
  metadata?: { namespace?: string };
  roleRef?: { kind?: string; name?: string };
  subjects?: Array<{ kind: string; name: string; namespace?: string }>;
}

/**
 * Every Role of a manifest with every ServiceAccount its RoleBindings (in the Role's namespace) bind
 * it to: one policy per Role and subject. Throws when the manifest has no Role, or a Role no binding.
 */
export function rbacPoliciesFromManifest(yamlText: string): RbacPolicy[] {
  const docs = parseAllDocuments(yamlText).map((doc) => doc.toJS() as unknown);
  const roles = docs.filter((doc) => isRecord(doc) && doc.kind === 'Role') as RoleDoc[];
  if (roles.length === 0) throw new Error('RBAC manifest: no Role');
  const bindings = docs.filter((doc) => isRecord(doc) && doc.kind === 'RoleBinding') as BindingDoc[];
  return roles.flatMap((role) => {
    const subjects = bindings
      .filter(
        (binding) =>
          binding.roleRef?.kind === 'Role' &&
          binding.roleRef.name === role.metadata.name &&
          (binding.metadata?.namespace ?? role.metadata.namespace) === role.metadata.namespace,
      )
      .flatMap((binding) => (binding.subjects ?? []).filter((s) => s.kind === 'ServiceAccount'));
    if (subjects.length === 0)
      throw new Error(`RBAC manifest: no RoleBinding of Role ${role.metadata.name} to a ServiceAccount`);
    return subjects.map((subject) => ({
      namespace: role.metadata.namespace,
      rules: role.rules ?? [],
      user: `system:serviceaccount:${subject.namespace ?? role.metadata.namespace}:${subject.name}`,
    }));
  });
}

/**
 * The policy of a manifest like `deploy/kubernetes/base/rbac.yaml`: its (first) Role, and the
 * ServiceAccount its RoleBinding binds that Role to. Throws when the manifest has no Role or no
 * binding of it. `rbacPoliciesFromManifest` returns every Role.
 */
export function rbacFromManifest(yamlText: string): RbacPolicy {
  return rbacPoliciesFromManifest(yamlText)[0]!;
}

/**
 * The RBAC authorizer's answer for one resource request: allowed when a rule of a Role bound to
 * `user`, in the Role's namespace, names the API group, the resource (`pods/log` for a subresource),
 * the verb and, when the rule lists names, the object's name. Throws the API server's 403 otherwise.
 */
export function authorize(
  policies: readonly RbacPolicy[],
  user: string,
  verb: string,
  target: Extract<Target, { type: 'resource' }>,
  resource: string,
): void {
  const group = target.resource.group;
  const allowed = policies.some(
    (policy) =>
      policy.user === user &&
      target.namespace === policy.namespace &&
      policy.rules.some(
        (rule) =>
          matches(rule.apiGroups, group) &&
          matches(rule.resources, resource) &&
          matches(rule.verbs, verb) &&
          (!rule.resourceNames?.length ||
            (target.name !== undefined && rule.resourceNames.includes(target.name))),
      ),
  );
  if (!allowed) {
    throw forbidden(target.resource, resource, verb, user, target.namespace, target.name);
  }
}

function matches(granted: readonly string[], value: string): boolean {
  return granted.includes('*') || granted.includes(value);
}
