export { startControlPlane, type ControlPlane, type ControlPlaneOptions } from './control-plane';
export { parseLocalEnv } from './env';
