/**
 * Our own typings for `@alicloud/mns` 1.2.0 (CommonJS, no .d.ts; docs/alibaba.md §11.6).
 * Every field of a response body is a string. Errors carried in an XML `<Error>` body are thrown
 * as `Error` with `name = "MNS" + Code + "Error"`; other statuses resolve, so check `code`.
 */
declare module "@alicloud/mns" {
  namespace MNSClient {
    interface Response<T> {
      /** HTTP status. */
      code: number;
      /** Only "attention" headers (e.g. `location` of createQueue). */
      headers: Record<string, string>;
      body: T;
    }

    interface ReceivedMessage {
      MessageId: string;
      ReceiptHandle: string;
      MessageBody: string;
      MessageBodyMD5: string;
      EnqueueTime: string;
      NextVisibleTime: string;
      FirstDequeueTime: string;
      DequeueCount: string;
      Priority: string;
    }

    type PeekedMessage = Omit<ReceivedMessage, "ReceiptHandle" | "NextVisibleTime">;

    interface OutgoingMessage {
      /** Sent verbatim into XML: the caller must escape `&`, `<`, `>` (or Base64 it). */
      MessageBody: string;
      DelaySeconds?: number;
      Priority?: number;
    }

    interface SentMessage {
      MessageId: string;
      MessageBodyMD5: string;
    }

    interface BatchDeleteError {
      ErrorCode: string;
      ErrorMessage: string;
      ReceiptHandle: string;
    }

    interface StsCredentials {
      accessKeyId: string;
      accessKeySecret: string;
      securityToken: string;
    }

    interface Options {
      accessKeyId?: string;
      accessKeyID?: string;
      accessKeySecret: string;
      region?: string;
      /** `http(s)://host[:port]` without a trailing slash (a slash breaks the signature). */
      endpoint?: string;
      secure?: boolean;
      internal?: boolean;
      vpc?: boolean;
      /** STS token, sent as the `security-token` header. */
      securityToken?: string;
      refreshSTSToken?: () => Promise<StsCredentials>;
      refreshSTSTokenInterval?: number;
      /** ms, default 40000. */
      readTimeout?: number;
      /** ms, default 30000; really a socket-idle timeout, use 35000 with waitSeconds 30. */
      connectTimeout?: number;
    }
  }

  class MNSClient {
    constructor(accountId: string, options: MNSClient.Options);
    /** `http(s)://host[:port]` as given (internal, read by src/sources/mns/mnsClient.ts). */
    readonly endpoint: string;
    /** ms (internal, as above). */
    readonly readTimeout: number;
    /** ms (internal, as above). */
    readonly connectTimeout: number;
    /** The signed request headers (internal, as above). */
    buildHeaders(
      method: string,
      body: string | Buffer,
      resource: string,
      customHeaders?: unknown,
    ): Record<string, string>;
    /**
     * Every call goes through here; `opts` reach httpx.request (e.g. `agent`, `timeout`).
     * Internal to the SDK but stable since 1.0; src/sources/mns/mnsClient.ts wraps it.
     */
    request(
      method: string,
      resource: string,
      type: string,
      body: string | Buffer,
      attentions?: string[],
      opts?: Record<string, unknown>,
    ): Promise<MNSClient.Response<unknown>>;
    createQueue(
      name: string,
      attributes?: Record<string, string | number>,
    ): Promise<MNSClient.Response<undefined>>;
    deleteQueue(name: string): Promise<MNSClient.Response<undefined>>;
    listQueue(
      start?: string,
      limit?: number,
      prefix?: string,
    ): Promise<MNSClient.Response<Array<{ QueueURL: string }>>>;
    getQueueAttributes(name: string): Promise<MNSClient.Response<Record<string, string>>>;
    setQueueAttributes(
      name: string,
      attributes?: Record<string, string | number>,
    ): Promise<MNSClient.Response<undefined>>;
    sendMessage(
      queue: string,
      message: MNSClient.OutgoingMessage,
    ): Promise<MNSClient.Response<MNSClient.SentMessage>>;
    batchSendMessage(
      queue: string,
      messages: MNSClient.OutgoingMessage[],
    ): Promise<MNSClient.Response<MNSClient.SentMessage[]>>;
    /** `waitSeconds` 0/undefined means the queue's PollingWaitSeconds. */
    receiveMessage(
      queue: string,
      waitSeconds?: number,
    ): Promise<MNSClient.Response<MNSClient.ReceivedMessage>>;
    batchReceiveMessage(
      queue: string,
      numOfMessages: number,
      waitSeconds?: number,
    ): Promise<MNSClient.Response<MNSClient.ReceivedMessage[]>>;
    peekMessage(queue: string): Promise<MNSClient.Response<MNSClient.PeekedMessage>>;
    batchPeekMessage(
      queue: string,
      numOfMessages: number,
    ): Promise<MNSClient.Response<MNSClient.PeekedMessage[]>>;
    deleteMessage(queue: string, receiptHandle: string): Promise<MNSClient.Response<undefined>>;
    /** Resolves on partial failure too: `code` 404 and `body` listing the failed handles. */
    batchDeleteMessage(
      queue: string,
      receiptHandles: string[],
    ): Promise<MNSClient.Response<MNSClient.BatchDeleteError[] | undefined>>;
    changeMessageVisibility(
      queue: string,
      receiptHandle: string,
      visibilityTimeout: number,
    ): Promise<MNSClient.Response<{ ReceiptHandle: string; NextVisibleTime: string }>>;
  }

  export = MNSClient;
}
