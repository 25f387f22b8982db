export { Bus, BusMessage, NodeEvent, BusStats, Handler, SubscribeOptions, SubscriberStats, Subscription } from './bus';
