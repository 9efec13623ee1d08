import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { LeaderElector, replicaIdentity } from '../../src/adapters/kubernetes/leader-election.js';
import { kubeconfigYaml } from '../../src/emulators/kube/index.js';
import { createLogger } from '../../src/logger.js';

describe('replicaIdentity', () => {
  it('is the pod name when POD_NAME is set, else the host name with a random suffix', () => {
    expect(replicaIdentity({ POD_NAME: 'switchyard-7c9f-abcde' })).toBe('switchyard-7c9f-abcde');
    const one = replicaIdentity({});
    const two = replicaIdentity({});
    expect(one).toMatch(/^.+-[0-9a-f]{8}$/);
    expect(one).not.toBe(two);
  });
});

describe('LeaderElector options', () => {
  it('refuses timings where a leader could outlive its Lease', () => {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromString(kubeconfigYaml({ server: 'https://127.0.0.1:1', token: 't', namespace: 'ns' }));
    const make = (leaseDurationMs: number) =>
      new LeaderElector({
        kubeConfig,
        namespace: 'ns',
        leaseName: 'switchyard-leader',
        identity: 'x',
        leaseDurationMs,
        renewDeadlineMs: 2_000,
        retryPeriodMs: 500,
        log: createLogger('silent'),
      });
    expect(() => make(2_000)).toThrow(/leaseDuration must be greater than renewDeadline/);
    expect(make(3_000).leading).toBe(false);
  });
});
