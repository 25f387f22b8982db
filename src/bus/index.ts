export { Bus, BusMessage, BusStats, Handler, SubscribeOptions, SubscriberStats, Subscription } from './bus';
