using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pipeline.Persistence.Migrations.PostgreSql.Sandboxes
{
    /// <inheritdoc />
    public partial class RetentionIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_sandboxes_State",
                table: "sandboxes");

            migrationBuilder.CreateIndex(
                name: "IX_sandboxes_inbox_ProcessedAt",
                table: "sandboxes_inbox",
                column: "ProcessedAt");

            migrationBuilder.CreateIndex(
                name: "IX_sandboxes_State_UpdatedAt",
                table: "sandboxes",
                columns: new[] { "State", "UpdatedAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_sandboxes_inbox_ProcessedAt",
                table: "sandboxes_inbox");

            migrationBuilder.DropIndex(
                name: "IX_sandboxes_State_UpdatedAt",
                table: "sandboxes");

            migrationBuilder.CreateIndex(
                name: "IX_sandboxes_State",
                table: "sandboxes",
                column: "State");
        }
    }
}
