using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pipeline.Persistence.Migrations.SqlServer.Sandboxes
{
    /// <inheritdoc />
    public partial class OutboxSentIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_sandboxes_outbox_SentAt_CreatedAt",
                table: "sandboxes_outbox");

            migrationBuilder.CreateIndex(
                name: "IX_sandboxes_outbox_Sent",
                table: "sandboxes_outbox",
                column: "SentAt",
                filter: "\"SentAt\" IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_sandboxes_outbox_Sent",
                table: "sandboxes_outbox");

            migrationBuilder.CreateIndex(
                name: "IX_sandboxes_outbox_SentAt_CreatedAt",
                table: "sandboxes_outbox",
                columns: new[] { "SentAt", "CreatedAt" });
        }
    }
}
