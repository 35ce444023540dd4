/**
 * Alibaba's published receipt examples (docs/alibaba.md §1.2–1.4; the D-… keys name their pages
 * in the sources table there), copied verbatim.
 * Kept as JSON text so the tests parse exactly what Alibaba sends (numbers stay numbers).
 */

/** §1.2 Example A — HTTP push, IVR-style VoiceReport (D-VR6). */
export const VOICE_REPORT_A = `[
  {
    "status_code": "200003",
    "callee": "130****0000",
    "ring_time": "2021-04-28 10:02:40",
    "duration": "10",
    "voice_type": "voice",
    "originate_time": "2021-04-28 10:02:34",
    "b_start_time": "2021-04-28 10:03:40",
    "end_time": "2021-04-28 10:03:40",
    "call_id": "122628733198^10942206****",
    "caller": "20200900****",
    "status_msg": "执行完成",
    "out_id": "PROD#2021042810271227129999192500610008S#new#MYBK****",
    "dtmf": "1",
    "toll_type": "LOCAL"
  }
]`;

/** §1.2 Example B — DoubleCall VoiceReport with numeric a_duration / b_duration (C-oncall). */
export const VOICE_REPORT_B = `{
  "a_start_time": "2023-07-04 22:09:12", "a_ring_time": "2023-07-04 22:09:08",
  "status_code": "200100", "callee": "13122042323", "ring_time": "2023-07-04 22:09:24",
  "a_duration": 22, "duration": "8", "a_originate_time": "2023-07-04 22:08:58",
  "voice_type": "voice", "b_duration": 8, "originate_time": "2023-07-04 22:09:15",
  "b_ring_time": "2023-07-04 22:09:24", "b_start_time": "2023-07-04 22:09:26",
  "a_end_time": "2023-07-04 22:09:33", "b_originate_time": "2023-07-04 22:09:15",
  "end_time": "2023-07-04 22:09:33", "callee_show_num": "01051272364",
  "call_id": "114018005245^100828655245", "start_time": "2023-07-04 22:09:26",
  "caller": "17863130137", "b_end_time": "2023-07-04 22:09:33",
  "status_msg": "呼叫结束（双呼）", "caller_show_num": "01051272364",
  "out_id": "abcdefgh", "toll_type": "DOMESTIC"
}`;

/** §1.3 VoiceCallReport HTTP example (D-VCR-6). */
export const VOICE_CALL_REPORT_OUTBOUND = `[{"status_code":"200101","status_time":"2021-04-28 09:55:02","out_id":"PROD#2021042810271227129999192500610008S#new#MYBK****#","call_id":"100001616500^10000187****"}]`;

/** §1.3 IVR DTMF example (D-VCR-4). */
export const VOICE_CALL_REPORT_DTMF = `[{"status_code":"300000","smart_status_code":"ANSWERED","dtmf":"1","status_time":"2023-03-06 16:21:12","out_id":"4*************2","call_id":"1***********3^1***********2"}]`;

/** §1.3 Inbound example (D-VCR-1): biz_id instead of call_id. */
export const VOICE_CALL_REPORT_INBOUND = `[{"extend":"3619","status_code":"200102","smart_status_code":"ANSWERED","status_time":"2023-03-06 00:47:10","biz_id":"1***********3^1***********6"}]`;

/** §1.4 VoiceRecordReport example (D-VRR-5), numeric duration 0. */
export const VOICE_RECORD_REPORT = `[{"duration":0,"start_time":"2023-03-15 16:02:07","status_code":"200005","smart_status_code":"ANSWERED","end_time":"2023-03-15 16:03:07","record_file":"http://aliyuncs.com/Free_record.wav?Expires=****2&OSSAccessKeyId=b****LI&Signature=zqj4****","out_id":"2aqbhgty1***************2","record_begin_time":"2023-03-15 16:02:11","call_id":"1*******5^2*******0"}]`;

/** The first (only) object of an example, parsed. */
export function first(json: string): Record<string, unknown> {
  const value = JSON.parse(json) as unknown;
  const item = Array.isArray(value) ? (value[0] as unknown) : value;
  return item as Record<string, unknown>;
}
