import { describe, expect, it } from 'vitest';
import { mergeSecrets, presentHub, splitSecrets } from './hub-fns.js';
import { OBSCURED } from './hub-types.js';

const aws = {
  region: 'eu-west-1',
  endpoint: 'x.example.com',
  accessKeyId: 'AKIA',
  secretAccessKey: 'secret',
};

describe('hub secrets', () => {
  it('ok/split keeps secrets apart from the settings stored in clear', () => {
    expect(splitSecrets('aws-iot-core', aws)).toEqual({
      plain: { region: 'eu-west-1', endpoint: 'x.example.com' },
      given: { accessKeyId: 'AKIA', secretAccessKey: 'secret' },
    });
  });

  const kept: [string, Record<string, unknown>][] = [
    ['ok/omitted means keep', { region: 'r' }],
    ['ok/obscured means keep', { secretAccessKey: OBSCURED, accessKeyId: OBSCURED }],
    ['ok/empty means keep', { secretAccessKey: '', accessKeyId: '' }],
  ];
  for (const [name, settings] of kept)
    it(name, () => {
      const { given } = splitSecrets('aws-iot-core', settings);
      expect(
        mergeSecrets('aws-iot-core', { accessKeyId: 'A', secretAccessKey: 'S' }, given),
      ).toEqual({
        secrets: { accessKeyId: 'A', secretAccessKey: 'S' },
        missing: [],
      });
    });

  it('ok/a given value replaces the stored one', () => {
    expect(
      mergeSecrets(
        'aws-iot-core',
        { accessKeyId: 'A', secretAccessKey: 'S' },
        { secretAccessKey: 'T' },
      ).secrets,
    ).toEqual({ accessKeyId: 'A', secretAccessKey: 'T' });
  });

  it('fail/a secret the type needs is missing', () => {
    expect(mergeSecrets('azure-iot-hub', {}, {}).missing).toEqual(['sharedAccessKey']);
  });

  it('ok/types without secrets need none', () => {
    expect(mergeSecrets('mqtt', {}, {})).toEqual({ secrets: {}, missing: [] });
  });

  it('ok/the API view obscures set secrets and says which are set, never the value', () => {
    const view = presentHub(
      {
        id: 'h',
        name: 'n',
        type: 'aws-iot-core',
        settings: { region: 'eu-west-1' },
        toolsCaId: null,
        createdAt: 't',
        updatedAt: 't',
      },
      ['secretAccessKey'],
    );
    expect(view.settings).toEqual({ region: 'eu-west-1', secretAccessKey: OBSCURED });
    expect(view.secrets).toEqual({ accessKeyId: { set: false }, secretAccessKey: { set: true } });
  });
});
