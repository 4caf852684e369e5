import { describe, expect, it } from 'vitest';
import { containerArgv } from './task-runner';

describe('containerArgv (an image task)', () => {
  it('passes every GPU and the environment by name only, values never on the command line', () => {
    expect(containerArgv('ghcr.io/team/eval:1', ['python', 'eval.py'], { KUMO_TASK_INDEX: '3', HF_TOKEN: 'secret' })).toEqual([
      'docker', 'run', '--rm', '--gpus', 'all', '-e', 'KUMO_TASK_INDEX', '-e', 'HF_TOKEN', 'ghcr.io/team/eval:1', 'python', 'eval.py',
    ]);
  });

  it("runs a gang rank on the VM's own network, so its peers reach MASTER_ADDR:MASTER_PORT", () => {
    const argv = containerArgv('ghcr.io/team/train:1', ['torchrun', 'train.py'], { KUMO_GANG_SIZE: '4', MASTER_ADDR: '10.0.0.2', MASTER_PORT: '29500' });
    expect(argv.slice(0, 7)).toEqual(['docker', 'run', '--rm', '--gpus', 'all', '--network', 'host']);
    expect(argv.slice(-3)).toEqual(['ghcr.io/team/train:1', 'torchrun', 'train.py']);
  });
});
