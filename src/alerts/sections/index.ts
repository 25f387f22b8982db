import type { ConfigSection } from '../../config/section';
import { contactsSection } from './contacts';
import { escalationsSection } from './escalations';
import { notifySection } from './notify';
import { schedulesSection } from './schedules';
import { silencesSection } from './silences';

/** alertSections are the top-level keys the alerts own: contacts, schedules, escalations, silences, notify. */
export const alertSections: readonly ConfigSection[] = [contactsSection, schedulesSection, escalationsSection, silencesSection, notifySection];

export { contactsSection, escalationsSection, notifySection, schedulesSection, silencesSection };
export { escalationIssue } from './common';
