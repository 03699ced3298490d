import type { ServiceKey, Services } from "../plugin-api.ts";

export class ServiceMap implements Services {
  private map = new Map<string, unknown>();
  provide<T>(key: ServiceKey<T>, value: T | undefined): void {
    this.map.set(key.name, value);
  }
  get<T>(key: ServiceKey<T>): T | undefined {
    return this.map.get(key.name) as T | undefined;
  }
}
