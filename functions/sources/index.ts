export { KinesisTailProbe, type KinesisTailProbeOptions } from '#sources/KinesisTailProbe';
