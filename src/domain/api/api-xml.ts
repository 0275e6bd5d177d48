/**
 * osTicket's XML ticket format read into the same shape as its JSON format.
 * `<ticket>` with fields as attributes or simple child elements, `<message type="text/html">`,
 * `<phone ext="123">`, `<attachments><file name= type= encoding="base64">…</file></attachments>`.
 * A DOCTYPE is refused before parsing, so no entity is ever defined or expanded (XXE, billion laughs).
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { BadRequest } from '../errors.ts';

/** One attachment as osTicket's XML carries it. */
export interface XmlFile {
  name: unknown;
  type: unknown;
  encoding: unknown;
  data: string;
}

/** The ticket request: plain fields, plus `message` and `attachments` in their XML forms. */
export type XmlTicketRequest = Record<string, unknown> & {
  message?: { body: string; type?: string };
  attachments?: XmlFile[];
};

const TEXT = '#text';
const ATTR = '@';

/** Reads the encoding named by the XML declaration (default UTF-8) and decodes the body with it. */
function decodeXml(raw: Buffer): string {
  const head = raw.subarray(0, 200).toString('latin1');
  const m = /^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head);
  try {
    return new TextDecoder(m ? m[1] : 'utf-8').decode(raw);
  } catch {
    throw new BadRequest('Unsupported XML encoding', 'XML_ENCODING');
  }
}

function textOf(node: unknown): string {
  if (node === null || node === undefined) return '';
  if (typeof node !== 'object') return String(node).trim();
  const t = (node as Record<string, unknown>)[TEXT];
  // CDATA is not trimmed by the parser; osTicket trims element text ("automatically trimmed").
  return t === undefined ? '' : String(t).trim();
}

function attrsOf(node: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!node || typeof node !== 'object') return out;
  for (const [k, v] of Object.entries(node)) if (k.startsWith(ATTR)) out[k.slice(ATTR.length)] = String(v);
  return out;
}

function childrenOf(node: unknown): [string, unknown][] {
  if (!node || typeof node !== 'object') return [];
  return Object.entries(node).filter(([k]) => k !== TEXT && !k.startsWith(ATTR));
}

/** A simple element becomes its text; one with children or attributes a plain object (kept as extra data). */
function plain(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(plain);
  const kids = childrenOf(node);
  const attrs = attrsOf(node);
  if (!kids.length && !Object.keys(attrs).length) return textOf(node);
  const out: Record<string, unknown> = { ...attrs };
  if (textOf(node)) out.text = textOf(node);
  for (const [k, v] of kids) out[k] = plain(v);
  return out;
}

/**
 * Parses an osTicket XML ticket request. @throws BadRequest (unreadable XML, a DOCTYPE, no `<ticket>` root)
 */
export function parseXmlTicket(raw: Buffer): XmlTicketRequest {
  const xml = decodeXml(raw);
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new BadRequest('DOCTYPE and entity declarations are not accepted', 'XML_DOCTYPE');
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new BadRequest(`XML error: ${valid.err.msg} at line ${valid.err.line}`, 'XML_INVALID');
  const parser = new XMLParser({
    ignoreAttributes: false, attributeNamePrefix: ATTR, textNodeName: TEXT, alwaysCreateTextNode: true,
    parseTagValue: false, parseAttributeValue: false, trimValues: true, ignoreDeclaration: true, ignorePiTags: true,
    processEntities: true, htmlEntities: false, isArray: (name) => name === 'file',
  });
  const doc = parser.parse(xml) as Record<string, unknown>;
  const root = doc.ticket;
  if (!root || typeof root !== 'object' || Array.isArray(root)) throw new BadRequest('The XML root element must be <ticket>', 'XML_NO_TICKET');
  const out: XmlTicketRequest = { ...attrsOf(root) };
  for (const [key, node] of childrenOf(root)) {
    if (Array.isArray(node)) throw new BadRequest(`<${key}> may appear only once`, 'XML_REPEATED');
    if (key === 'message') out.message = { body: textOf(node), type: attrsOf(node).type };
    else if (key === 'phone') out.phone = attrsOf(node).ext ? `${textOf(node)}X${attrsOf(node).ext}` : textOf(node);
    else if (key === 'attachments') {
      const files = (node as Record<string, unknown>)?.file;
      out.attachments = (Array.isArray(files) ? files : []).map((f) => {
        const a = attrsOf(f);
        return { name: a.name, type: a.type, encoding: a.encoding, data: textOf(f) };
      });
    } else out[key] = plain(node);
  }
  return out;
}
