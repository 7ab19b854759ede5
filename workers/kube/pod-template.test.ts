import { describe, expect, it } from 'vitest';
import { kubePodTemplate } from './pod-template.ts';

describe('a pod template as the Kubernetes API shows it', () => {
  const template = (drainDelaySeconds: number | undefined, annotations?: Record<string, string>) => ({
    metadata: { labels: { app: 'web' }, ...(annotations ? { annotations } : {}) },
    spec: {
      containers: [{ name: 'web', image: 'nginx' }],
      ...(drainDelaySeconds === undefined ? {} : { drainDelaySeconds }),
    },
  });

  it('shows a drain delay other than the default as its annotation, beside the others', () => {
    const shown = kubePodTemplate(template(0, { 'kubectl.kubernetes.io/restartedAt': 't' }));
    expect(shown.spec).not.toHaveProperty('drainDelaySeconds');
    expect(shown.metadata.annotations).toEqual({
      'kubectl.kubernetes.io/restartedAt': 't',
      'berth.dev/drain-delay-seconds': '0',
    });
  });

  it('shows the default as nothing at all', () => {
    for (const shown of [kubePodTemplate(template(2)), kubePodTemplate(template(undefined))]) {
      expect(shown.spec).not.toHaveProperty('drainDelaySeconds');
      expect(shown.metadata).not.toHaveProperty('annotations');
    }
  });
});
